"""FIX 4.4 tag numbers and message types used by tradeforge (plain ints / bytes, for the hot path)."""

from __future__ import annotations

from typing import Final

# header / trailer
BeginString: Final = 8
BodyLength: Final = 9
CheckSum: Final = 10
MsgSeqNum: Final = 34
MsgType: Final = 35
SenderCompID: Final = 49
SendingTime: Final = 52
TargetCompID: Final = 56
PossDupFlag: Final = 43
PossResend: Final = 97
OrigSendingTime: Final = 122
# session
BeginSeqNo: Final = 7
EndSeqNo: Final = 16
NewSeqNo: Final = 36
RefSeqNum: Final = 45
Text: Final = 58
EncryptMethod: Final = 98
HeartBtInt: Final = 108
TestReqID: Final = 112
GapFillFlag: Final = 123
ResetSeqNumFlag: Final = 141
RefTagID: Final = 371
RefMsgType: Final = 372
SessionRejectReason: Final = 373
BusinessRejectRefID: Final = 379
BusinessRejectReason: Final = 380
# orders
Account: Final = 1
AvgPx: Final = 6
ClOrdID: Final = 11
CumQty: Final = 14
Currency: Final = 15
ExecID: Final = 17
HandlInst: Final = 21
LastPx: Final = 31
LastQty: Final = 32
OrderID: Final = 37
OrderQty: Final = 38
OrdStatus: Final = 39
OrdType: Final = 40
OrigClOrdID: Final = 41
Price: Final = 44
Side: Final = 54
Symbol: Final = 55
TimeInForce: Final = 59
TransactTime: Final = 60
StopPx: Final = 99
OrdRejReason: Final = 103
CxlRejReason: Final = 102
ExpireTime: Final = 126
ExpireDate: Final = 432
ExecRefID: Final = 19
ExecInst: Final = 18
Commission: Final = 12
LeavesQty: Final = 151
ExecType: Final = 150
CxlRejResponseTo: Final = 434
LastLiquidityInd: Final = 851
MassStatusReqID: Final = 584
MassStatusReqType: Final = 585
TotNumReports: Final = 911
LastRptRequested: Final = 912
# market data
MDReqID: Final = 262
SubscriptionRequestType: Final = 263
MarketDepth: Final = 264
MDUpdateType: Final = 265
NoMDEntryTypes: Final = 267
NoMDEntries: Final = 268
MDEntryType: Final = 269
MDEntryPx: Final = 270
MDEntrySize: Final = 271
MDUpdateAction: Final = 279
NoRelatedSym: Final = 146
MDReqRejReason: Final = 281

# message types
HEARTBEAT: Final = b"0"
TEST_REQUEST: Final = b"1"
RESEND_REQUEST: Final = b"2"
REJECT: Final = b"3"
SEQUENCE_RESET: Final = b"4"
LOGOUT: Final = b"5"
LOGON: Final = b"A"
EXECUTION_REPORT: Final = b"8"
ORDER_CANCEL_REJECT: Final = b"9"
NEW_ORDER_SINGLE: Final = b"D"
ORDER_CANCEL_REQUEST: Final = b"F"
ORDER_CANCEL_REPLACE_REQUEST: Final = b"G"
ORDER_STATUS_REQUEST: Final = b"H"
ORDER_MASS_STATUS_REQUEST: Final = b"AF"
MARKET_DATA_REQUEST: Final = b"V"
MARKET_DATA_SNAPSHOT: Final = b"W"
MARKET_DATA_INCREMENTAL: Final = b"X"
MARKET_DATA_REQUEST_REJECT: Final = b"Y"
BUSINESS_MESSAGE_REJECT: Final = b"j"

ADMIN_TYPES: Final = frozenset({HEARTBEAT, TEST_REQUEST, RESEND_REQUEST, REJECT, SEQUENCE_RESET, LOGOUT, LOGON})
