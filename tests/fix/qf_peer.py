"""A QuickFIX counterparty for the interop tests, run as a subprocess: ``python qf_peer.py MODE PORT DIR``.

``acceptor``: EXCHANGE accepting CLIENT; acks every order, fills limit orders priced >= 100 (others
rest), cancels, replaces, answers status requests. ``initiator``: CLIENT logging on to TRADEFORGE and
sending one NewOrderSingle. Prints ``LOGON`` and ``ER <ExecType> <ClOrdID>`` lines on stdout.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import quickfix as fix

DICT = Path(__file__).resolve().parents[2] / "data" / "fix" / "FIX44.xml"


def field(msg: fix.Message, tag: int, default: str = "") -> str:
    return msg.getField(tag) if msg.isSetField(tag) else default


class Peer(fix.Application):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.orders: dict[str, dict[str, str]] = {}
        self.n = 0

    def onCreate(self, sid): pass
    def toAdmin(self, msg, sid): pass
    def fromAdmin(self, msg, sid): pass
    def toApp(self, msg, sid): pass
    def onLogout(self, sid): print("LOGOUT", flush=True)

    def onLogon(self, sid):
        print("LOGON", flush=True)
        if self.mode == "initiator":
            m = fix.Message()
            m.getHeader().setField(fix.MsgType("D"))
            for tag, value in ((11, "QF1"), (21, "1"), (55, "AAPL"), (54, "1"), (60, "20240102-14:30:00"),
                               (38, "10"), (40, "2"), (44, "187.25"), (59, "1")):
                m.setField(fix.StringField(tag, value))
            fix.Session.sendToTarget(m, sid)

    def report(self, sid, o: dict[str, str], exec_type: str, status: str, last: str = "") -> None:
        self.n += 1
        m = fix.Message()
        m.getHeader().setField(fix.MsgType("8"))
        cum = o["cum"]
        values = [(37, o["oid"]), (11, o["clid"]), (17, f"QE{self.n}"), (150, exec_type), (39, status),
                  (55, o["sym"]), (54, o["side"]), (38, o["qty"]), (40, "2"), (44, o["px"]),
                  (151, "0" if status in "248" else str(int(o["qty"]) - int(cum))), (14, cum),
                  (6, o["px"] if cum != "0" else "0")]
        if o.get("orig"):
            values.append((41, o["orig"]))
        if last:
            values += [(31, o["px"]), (32, last)]
        for tag, value in values:
            m.setField(fix.StringField(tag, value))
        fix.Session.sendToTarget(m, sid)

    def fromApp(self, msg, sid):
        mt = msg.getHeader().getField(35)
        if mt == "8":
            print("ER", field(msg, 150), field(msg, 11), flush=True)
            return
        if mt == "D":
            clid = field(msg, 11)
            o = {"oid": f"Q{len(self.orders) + 1}", "clid": clid, "sym": field(msg, 55), "side": field(msg, 54),
                 "qty": field(msg, 38), "px": field(msg, 44, "0"), "cum": "0", "status": "0"}
            self.orders[clid] = o
            self.report(sid, o, "0", "0")
            if float(o["px"]) >= 100:
                time.sleep(float(os.environ.get("QF_FILL_DELAY", "0")))
                o["cum"], o["status"] = o["qty"], "2"
                self.report(sid, o, "F", "2", last=o["qty"])
        elif mt in ("F", "G"):
            o = self.orders.get(field(msg, 41))
            if o is None or o["status"] in "24":
                m = fix.Message()
                m.getHeader().setField(fix.MsgType("9"))
                for tag, value in ((37, "NONE"), (11, field(msg, 11)), (41, field(msg, 41)), (39, "8"),
                                   (434, "1" if mt == "F" else "2"), (102, "1")):
                    m.setField(fix.StringField(tag, value))
                fix.Session.sendToTarget(m, sid)
                return
            o["orig"], o["clid"] = o["clid"], field(msg, 11)
            self.orders[o["clid"]] = o
            if mt == "F":
                o["status"] = "4"
                self.report(sid, o, "4", "4")
            else:
                o["qty"], o["px"] = field(msg, 38), field(msg, 44, o["px"])
                self.report(sid, o, "5", o["status"])
            o["orig"] = ""
        elif mt == "H":
            o = self.orders.get(field(msg, 11))
            if o is not None:
                self.report(sid, o, "I", o["status"])
        else:  # e.g. OrderMassStatusRequest: BusinessMessageReject, Unsupported Message Type
            m = fix.Message()
            m.getHeader().setField(fix.MsgType("j"))
            for tag, value in ((45, msg.getHeader().getField(34)), (372, mt), (380, "3"), (58, "Unsupported Message Type")):
                m.setField(fix.StringField(tag, value))
            fix.Session.sendToTarget(m, sid)


def main() -> None:
    mode, port, directory = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    ours, theirs = ("EXCHANGE", "CLIENT") if mode == "acceptor" else ("CLIENT", "TRADEFORGE")
    cfg = directory / f"{mode}.cfg"
    conn = (f"ConnectionType=acceptor\nSocketAcceptPort={port}\n" if mode == "acceptor"
            else f"ConnectionType=initiator\nSocketConnectHost=127.0.0.1\nSocketConnectPort={port}\nReconnectInterval=1\n")
    tls = os.environ.get("QF_SSL_DIR", "")  # TLS with the test's certificates (quickfix-ssl)
    if tls and mode == "acceptor":
        conn += (f"ServerCertificateFile={tls}/server.pem\nServerCertificateKeyFile={tls}/server.key\n"
                 f"CertificationAuthoritiesFile={tls}/ca.pem\nCertificateVerifyLevel=0\n")
    elif tls:
        conn += (f"ClientCertificateFile={tls}/client.pem\nClientCertificateKeyFile={tls}/client.key\n"
                 f"CertificationAuthoritiesFile={tls}/ca.pem\nCertificateVerifyLevel=1\n")
    cfg.write_text(
        f"[DEFAULT]\n{conn}FileStorePath={directory / 'qfstore'}\nStartTime=00:00:00\nEndTime=00:00:00\n"
        f"HeartBtInt=1\nUseDataDictionary=Y\nDataDictionary={DICT}\nResetOnLogon=N\nValidateUserDefinedFields=N\n"
        f"[SESSION]\nBeginString=FIX.4.4\nSenderCompID={ours}\nTargetCompID={theirs}\n"
    )
    settings = fix.SessionSettings(str(cfg))
    app = Peer(mode)
    store = fix.FileStoreFactory(settings)
    logs = fix.ScreenLogFactory(False, False, False)
    if tls:
        engine = (fix.SSLSocketAcceptor if mode == "acceptor" else fix.SSLSocketInitiator)(app, store, settings, logs)
    else:
        engine = (fix.SocketAcceptor if mode == "acceptor" else fix.SocketInitiator)(app, store, settings, logs)
    engine.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin
    finally:
        engine.stop()


if __name__ == "__main__":
    main()
