"""The seed script's approach to ACI push notifications, with its mistakes
fixed: aaaLogin with requests, the WebSocket opened first with websocket-client,
then a class subscription (parameters built properly, TLS verified against a CA
file). Prints the subscription id, then the first push, as JSON lines."""
import argparse
import json
import urllib.parse

import requests
import websocket

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("--ca", required=True)
p.add_argument("--user", required=True)
p.add_argument("--password", required=True)
p.add_argument("--cls", default="fvBD")
a = p.parse_args()

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
print(json.dumps({"subscriptionId": sub.json()["subscriptionId"]}), flush=True)
print(ws.recv(), flush=True)
ws.close()
