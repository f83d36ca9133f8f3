# The tutorial's BitMEX crawler, unchanged but for the URL (taken from the
# command line) and a stop after N messages so a test can run it.
import sys

import websocket

URL = sys.argv[1]
STOP_AFTER = int(sys.argv[2])
received = 0


def on_open(ws):
    print("open", flush=True)


def on_message(ws, message):
    global received
    print(message, flush=True)
    received += 1
    if received >= STOP_AFTER:
        ws.close()


def on_error(ws, error):
    print("error", error, flush=True)


def on_close(ws, close_status_code, close_msg):
    print("closed", flush=True)


if __name__ == "__main__":
    ws = websocket.WebSocketApp(URL, on_open=on_open, on_message=on_message, on_error=on_error, on_close=on_close)
    ws.run_forever()
