"""The seed's client approach against a VCD (or the simulator): OpenAPI login,
then paho-mqtt over WebSockets to /messaging/mqtt with the Bearer token (or, with
--mqtt-login, MQTT user "user@org" and the JWT as password). Prints one JSON line
per event; "SUBSCRIBED" once the broker granted the subscription."""
import argparse
import base64
import json
import resource
import ssl
import sys
import urllib.parse

import paho.mqtt.client as mqtt
import requests

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--ca", required=True)
p.add_argument("--user", required=True)
p.add_argument("--org", required=True)
p.add_argument("--password", required=True)
p.add_argument("--count", type=int, default=3)
p.add_argument("--mqtt-login", action="store_true")
p.add_argument("--quiet", action="store_true", help="print only the count at the end (benchmarks)")
a = p.parse_args()

basic = base64.b64encode(f"{a.user}@{a.org}:{a.password}".encode()).decode()
r = requests.post(a.url + "/cloudapi/1.0.0/sessions",
                  headers={"Accept": "application/json;version=36.0", "Authorization": "Basic " + basic},
                  verify=a.ca, timeout=10)
r.raise_for_status()
token = r.headers["X-VMWARE-VCLOUD-ACCESS-TOKEN"]
org_id = r.json()["org"]["id"].split(":")[-1]

u = urllib.parse.urlparse(a.url)
client = mqtt.Client(client_id="interop-" + org_id[:8], transport="websockets")
if a.mqtt_login:
    client.ws_set_options(path="/messaging/mqtt")
    client.username_pw_set(f"{a.user}@{a.org}", token)
else:
    client.ws_set_options(path="/messaging/mqtt", headers={"Authorization": "Bearer " + token})
client.tls_set_context(ssl.create_default_context(cafile=a.ca))
received = []


def on_connect(c, userdata, flags, rc):
    if rc != 0:
        print(json.dumps({"connect_rc": rc}), flush=True)
        sys.exit(2)
    c.subscribe(f"publish/{org_id}/+", qos=1)


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def on_subscribe(c, userdata, mid, granted):
    if a.quiet:
        print(json.dumps({"subscribedCpuSeconds": cpu_seconds()}), flush=True)
    print("SUBSCRIBED" if granted[0] != 128 else "REFUSED", flush=True)


def on_message(c, userdata, message):
    envelope = json.loads(message.payload.decode("utf-8"))
    event = json.loads(envelope["payload"])  # parsed properly, not by splitting strings
    if not a.quiet:
        print(json.dumps({"topic": message.topic, "type": envelope["type"], "eventId": event["eventId"]}), flush=True)
    received.append(event["eventId"])
    if len(received) >= a.count:
        c.disconnect()


client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(u.hostname, u.port or 443, keepalive=60)
client.loop_forever()
if a.quiet:
    print(json.dumps({"received": len(received), "cpuSeconds": cpu_seconds()}), flush=True)
