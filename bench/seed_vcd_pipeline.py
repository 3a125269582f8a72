"""The seed's approach as a pipeline, for the benchmark: OpenAPI login with requests, paho-mqtt over
WebSockets to /messaging/mqtt with the Bearer token, and for each event json.loads twice and one
requests POST (binary CloudEvent) to the sink, in the message callback. Prints {"ready": true}
once the broker granted the subscription; runs until it is terminated.

    python3 seed_vcd_pipeline.py <vcd url (http)> <user>@<org> <password> <sink url>"""
import base64
import json
import sys
import urllib.parse

import paho.mqtt.client as mqtt
import requests

url, login, password, sink = sys.argv[1:5]
basic = base64.b64encode(f"{login}:{password}".encode()).decode()
r = requests.post(url + "/cloudapi/1.0.0/sessions",
                  headers={"Accept": "application/json;version=38.0", "Authorization": "Basic " + basic},
                  timeout=10)
r.raise_for_status()
token = r.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
session = r.json()
org_id = session["org"]["id"].split(":")[-1]
user_id = session["user"]["id"].split(":")[-1]
http = requests.Session()


def on_connect(c, userdata, flags, rc):
    c.subscribe(f"publish/{org_id}/{user_id}", qos=1)


def on_subscribe(c, userdata, mid, granted):
    print(json.dumps({"ready": granted[0] != 128}), flush=True)


def on_message(c, userdata, message):
    envelope = json.loads(message.payload.decode("utf-8"))
    event = json.loads(envelope["payload"])
    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": event["eventId"],
        "ce-type": "com.vmware.vcd." + ".".join(event["type"].split("/")[-2:]),
        "ce-source": url,
        "ce-time": urllib.parse.quote(event["timestamp"]),
        "ce-subject": event.get("entity", ""),
    }
    http.post(sink, data=json.dumps(event), headers=headers, timeout=10).raise_for_status()


u = urllib.parse.urlparse(url)
client = mqtt.Client(client_id="seed-" + user_id[:8], transport="websockets")
client.ws_set_options(path="/messaging/mqtt", headers={"Authorization": "Bearer " + token})
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(u.hostname, u.port or 80, keepalive=60)
client.loop_forever()
