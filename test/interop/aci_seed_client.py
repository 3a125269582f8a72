"""The seed script's approach to ACI push notifications, with its mistakes
fixed: aaaLogin with requests, the WebSocket opened first with websocket-client,
then a class subscription (parameters built properly, TLS verified against a CA
file). Prints the subscription id, then the first --count pushed objects'
pushes, as JSON lines; with --quiet (benchmarks) only the subscription id with
the CPU time spent so far, and at the end the count with the CPU time."""
import argparse
import json
import resource
import urllib.parse

import requests
import websocket

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--ca", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--cls", default="fvBD")
p.add_argument("--count", type=int, default=1, help="exit after this many pushed objects")
p.add_argument("--quiet", action="store_true", help="print no pushes, only CPU times (benchmarks)")
a = p.parse_args()


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


login = requests.post(a.url + "/api/aaaLogin.json",
                      json={"aaaUser": {"attributes": {"name": a.user, "pwd": a.password}}},
                      verify=a.ca, timeout=10)
login.raise_for_status()
token = login.json()["imdata"][0]["aaaLogin"]["attributes"]["token"]

host = urllib.parse.urlparse(a.url).netloc
ws = websocket.create_connection("wss://%s/socket%s" % (host, token), sslopt={"ca_certs": a.ca}, timeout=15)

sub = requests.get(a.url + "/api/class/%s.json" % a.cls,
                   params={"subscription": "yes", "refresh-timeout": "60"},
                   cookies={"APIC-cookie": token}, verify=a.ca, timeout=10)
sub.raise_for_status()
subscribed = {"subscriptionId": sub.json()["subscriptionId"]}
if a.quiet:
    subscribed["subscribedCpuSeconds"] = cpu_seconds()
print(json.dumps(subscribed), flush=True)

received = 0
while received < a.count:
    text = ws.recv()
    push = json.loads(text)  # parsed properly, not by splitting strings
    for mo in push["imdata"]:
        (cls, body), = mo.items()  # {"fvBD": {"attributes": {...}}}
        change = (cls, body["attributes"]["dn"], body["attributes"].get("status"))
        received += 1
    if not a.quiet:
        print(text, flush=True)
ws.close()
if a.quiet:
    print(json.dumps({"received": received, "cpuSeconds": cpu_seconds()}), flush=True)
