"""The seed script's approach to ACI as a pipeline, for the benchmark: aaaLogin with requests, the
WebSocket with websocket-client, one class subscription, and for each pushed object one requests POST
(binary CloudEvent) to the sink. Prints {"ready": true} once subscribed; runs until terminated.

    python3 seed_aci_pipeline.py <apic url> <ca file> <user> <password> <class> <sink url>"""
import json
import sys
import urllib.parse

import requests
import websocket

url, ca, user, password, cls, sink = sys.argv[1:7]
login = requests.post(url + "/api/aaaLogin.json",
                      json={"aaaUser": {"attributes": {"name": user, "pwd": password}}}, verify=ca, timeout=10)
login.raise_for_status()
token = login.json()["imdata"][0]["aaaLogin"]["attributes"]["token"]
host = urllib.parse.urlparse(url).netloc
ws = websocket.create_connection("wss://%s/socket%s" % (host, token), sslopt={"ca_certs": ca}, timeout=None)
sub = requests.get(url + "/api/class/%s.json" % cls, params={"subscription": "yes", "refresh-timeout": "600"},
                   cookies={"APIC-cookie": token}, verify=ca, timeout=10)
sub.raise_for_status()
print(json.dumps({"ready": True}), flush=True)

http = requests.Session()
while True:
    try:
        text = ws.recv()
    except websocket.WebSocketConnectionClosedException:
        # Like the seed script, this renews neither its session nor its subscription: the APIC ends them.
        print("the APIC closed the socket", file=sys.stderr)
        break
    if not text:  # a control frame or the socket closing: no push
        continue
    push = json.loads(text)
    for mo in push["imdata"]:
        (name, body), = mo.items()
        a = body["attributes"]
        headers = {
            "content-type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": "%s@%s" % (a["dn"], a.get("modTs", "")),
            "ce-type": "com.cisco.aci.%s.%s" % (name, a.get("status") or "modified"),
            "ce-source": url,
            "ce-subject": a["dn"],
        }
        http.post(sink, data=json.dumps(a), headers=headers, timeout=10).raise_for_status()
