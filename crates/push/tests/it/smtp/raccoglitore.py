"""A real SMTP server for the tests (aiosmtpd): stores each message it accepts as a JSON file
(envelope, decoded subject, Message-ID, plain and HTML parts, whether TLS and AUTH were used).

    python raccoglitore.py PORTA CARTELLA nessuno|starttls|implicito [CERT KEY]
    (SMTP_UTENTE / SMTP_PASSWORD in the environment: AUTH required)
"""
import email
import json
import os
import ssl
import sys
import threading
import uuid
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

porta, cartella, modo = int(sys.argv[1]), sys.argv[2], sys.argv[3]
utente = os.environ.get("SMTP_UTENTE")
password = os.environ.get("SMTP_PASSWORD")


class Raccoglitore:
    async def handle_DATA(self, server, session, envelope):
        m = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        testo = m.get_body(("plain",))
        html = m.get_body(("html",))
        d = {
            "da": envelope.mail_from,
            "a": envelope.rcpt_tos,
            "oggetto": str(m["subject"]),
            "message_id": str(m["message-id"]),
            "testo": testo.get_content() if testo else None,
            "html": html.get_content() if html else None,
            "autenticato": bool(session.authenticated),
            "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None,
        }
        tmp = os.path.join(cartella, "." + uuid.uuid4().hex)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(d, f)
        os.rename(tmp, os.path.join(cartella, uuid.uuid4().hex + ".json"))
        return "250 OK"


def autentica(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == utente
        and auth_data.password.decode() == password
    )
    return AuthResult(success=ok)


kw = {}
if modo != "nessuno":
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    if modo == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    else:
        kw.update(ssl_context=ctx)
if utente:
    # With implicit TLS aiosmtpd does not see the connection as TLS for AUTH (it is).
    kw.update(authenticator=autentica, auth_required=True, auth_require_tls=(modo == "starttls"))
c = Controller(Raccoglitore(), hostname="127.0.0.1", port=porta, **kw)
c.start()
print("pronto", flush=True)
threading.Event().wait()
