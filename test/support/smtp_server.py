"""A mail relay for tests (Debian's python3-aiosmtpd), with or without login.

    smtp_server.py PORT                 accepts mail from anyone (an internal relay)
    smtp_server.py PORT USER PASSWORD   requires AUTH with that user and password (plain text: loopback only)

Prints "LISTENING" once it accepts connections, then for every message the
login used (if any), the envelope sender, the message and "END MESSAGE".
"""
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Printer:
    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        print(f"AUTH LOGIN: {login or '-'}")
        print(f"MAIL FROM: {envelope.mail_from}")
        print(f"RCPT TO: {', '.join(envelope.rcpt_tos)}")
        print(envelope.content.decode("utf8", errors="replace"))
        print("END MESSAGE", flush=True)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    options = {}
    if len(sys.argv) == 4:
        user, password = sys.argv[2].encode(), sys.argv[3].encode()

        def check(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password
            return AuthResult(success=ok, auth_data=auth_data)

        options = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
    controller = Controller(Printer(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("LISTENING", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
