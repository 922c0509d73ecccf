"""The Python side of the cross-language tests (test/bindings/*.test.ts run it with /usr/bin/python3).

    xlang.py frames FIXTURE    decode and re-encode test/fixtures/goridge-frames.json
    xlang.py decode FIXTURE    decode ts-encoded.json: contexts and messages, field by field
    xlang.py encode FIXTURE    encode the vectors of ts-encoded.json from their fields
    xlang.py names             the worker's event and verb strings next to the schema's
    xlang.py serve-failing     a worker that raises on DATA "boom...", prints on "print...", echoes

Everything is printed as JSON for the TypeScript test to compare; this script asserts nothing
itself, so a mismatch shows up as a field-level diff in vitest.
"""

import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "examples", "python"))
sys.path.insert(0, os.path.join(REPO, "gen", "python"))

import goridge  # noqa: E402
import rr_tcp_worker  # noqa: E402
from google.protobuf import descriptor, symbol_database  # noqa: E402
from rr.tcp.v1 import control_pb2, options_pb2, tcp_pb2  # noqa: E402,F401  (registers the types)

FD = descriptor.FieldDescriptor


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def frames(path):
    out = []
    for fx in load(path)["frames"]:
        raw = bytes.fromhex(fx["hex"])
        frame = goridge.decode_frame(raw)
        entry = {
            "name": fx["name"],
            "version": frame.version,
            "flags": frame.flags,
            "options": list(frame.options),
            "byte10": frame.byte10,
            "byte11": frame.byte11,
            "payload_hex": frame.payload.hex(),
            "reencoded_hex": goridge.encode_frame(frame.flags, frame.options, frame.payload, frame.byte10).hex(),
        }
        # The helpers a worker uses for each kind of frame must give the same bytes too.
        if frame.flags & goridge.CONTROL:
            entry["helper_hex"] = goridge.encode_control_frame(json.loads(frame.payload), frame.flags).hex()
        elif frame.flags & goridge.ERROR:
            entry["helper_hex"] = goridge.encode_error_frame(frame.payload.decode()).hex()
        else:
            context, body = goridge.split_payload(frame)
            entry["context"] = context.decode()
            entry["body_hex"] = body.hex()
            entry["helper_hex"] = goridge.encode_payload_frame(context, body, frame.flags).hex()
        out.append(entry)
    # The whole session as one stream read one byte at a time, as a pipe may deliver it.
    stream = io.BytesIO(b"".join(bytes.fromhex(fx["hex"]) for fx in load(path)["frames"]))
    reread = []
    while True:
        frame = goridge.read_frame(lambda n: stream.read(min(n, 1)))
        if frame is None:
            break
        reread.append(goridge.encode_frame(frame.flags, frame.options, frame.payload, frame.byte10).hex())
    return {"frames": out, "stream": reread}


def dump(message):
    """Every field of a message in the neutral form of test/bindings/vectors.ts."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: (dump(v) if value_field.message_type else scalar(value_field, v)) for k, v in value.items()}
        elif field.label == FD.LABEL_REPEATED:
            out[field.name] = [dump(v) if field.message_type else scalar(field, v) for v in value]
        elif field.message_type is not None:
            out[field.name] = dump(value) if message.HasField(field.name) else None
        else:
            out[field.name] = scalar(field, value)
    return out


def scalar(field, value):
    return value.hex() if field.type == FD.TYPE_BYTES else value


def fill(message, fields):
    """The reverse of dump: sets every field of `message` from its neutral form."""
    for field in message.DESCRIPTOR.fields:
        value = fields[field.name]
        target = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            for k, v in value.items():
                if value_field.message_type:
                    fill(target[k], v)
                else:
                    target[k] = unscalar(value_field, v)
        elif field.label == FD.LABEL_REPEATED:
            for v in value:
                if field.message_type:
                    fill(target.add(), v)
                else:
                    target.append(unscalar(field, v))
        elif field.message_type is not None:
            if value is not None:
                # Present even when every field is zero (a Duration of 0s is not "unset").
                target.SetInParent()
                fill(target, value)
        else:
            setattr(message, field.name, unscalar(field, value))
    return message


def unscalar(field, value):
    return bytes.fromhex(value) if field.type == FD.TYPE_BYTES else value


def message_class(name):
    return symbol_database.Default().GetSymbol(name)


def decode(path):
    fixture = load(path)
    contexts = []
    for vector in fixture["contexts"]:
        message = tcp_pb2.RequestContext()
        message.ParseFromString(bytes.fromhex(vector["proto_hex"]))
        contexts.append({
            "name": vector["name"],
            # Through the generated attributes, as a worker author would read them.
            "proto_fields": {"remote_addr": message.remote_addr, "server": message.server, "uuid": message.uuid, "event": message.event},
            # Through the worker's own decoders, what a handler gets.
            "proto_request": rr_tcp_worker.decode_proto_context(bytes.fromhex(vector["proto_hex"])),
            "json_request": rr_tcp_worker.decode_json_context(bytes.fromhex(vector["json_hex"])),
        })
    messages = []
    for vector in fixture["messages"]:
        message = message_class(vector["type"])()
        message.ParseFromString(bytes.fromhex(vector["proto_hex"]))
        messages.append({"name": vector["name"], "type": vector["type"], "fields": dump(message)})
    return {"contexts": contexts, "messages": messages}


def go_json_string(value):
    """A JSON string as Go's encoding/json writes it (RoadRunner's contexts are json.Marshal's)."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def encode(path):
    fixture = load(path)
    contexts = []
    for vector in fixture["contexts"]:
        f = vector["fields"]
        message = tcp_pb2.RequestContext(remote_addr=f["remote_addr"], server=f["server"], uuid=f["uuid"], event=f["event"])
        values = {"remote_addr": f["remote_addr"], "server": f["server"], "uuid": f["uuid"], "event": rr_tcp_worker.event_name(f["event"])}
        text = "{" + ",".join(f"{go_json_string(k)}:{go_json_string(values[k])}" for k in rr_tcp_worker.CONTEXT_KEYS) + "}"
        contexts.append({"name": vector["name"], "json": text, "proto_hex": message.SerializeToString().hex()})
    messages = []
    for vector in fixture["messages"]:
        message = fill(message_class(vector["type"])(), vector["fields"])
        # Deterministic: map entries sorted by key, so the fixture is stable.
        messages.append({"name": vector["name"], "type": vector["type"], "proto_hex": message.SerializeToString(deterministic=True).hex()})
    return {
        "about": "Encoded by Python (gen/python via python3-protobuf, test/bindings/python/xlang.py) from the fields of ts-encoded.json, for TypeScript to decode field by field.",
        "contexts": contexts,
        "messages": messages,
    }


def names():
    def schema(enum, prefix):
        return [n[len(prefix):] for n in enum.keys() if enum.Value(n) != 0]

    return {
        "events": list(rr_tcp_worker.EVENTS),
        "verbs": list(rr_tcp_worker.VERBS),
        "schema_events": schema(tcp_pb2.TcpEvent, "TCP_EVENT_"),
        "schema_verbs": schema(tcp_pb2.TcpResponse, "TCP_RESPONSE_"),
    }


def serve_failing():
    def handler(request):
        if request.event == rr_tcp_worker.EVENT_DATA and request.body.startswith(b"boom"):
            raise RuntimeError("boom requested by the client")
        if request.event == rr_tcp_worker.EVENT_DATA and request.body.startswith(b"print"):
            print("stray output from a handler")
        if request.event == rr_tcp_worker.EVENT_DATA:
            return rr_tcp_worker.WRITE, request.body
        return rr_tcp_worker.CONTINUE

    return rr_tcp_worker.TcpWorker.from_env().serve(handler)


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "serve-failing":
        return serve_failing()
    commands = {"frames": frames, "decode": decode, "encode": encode}
    if command in commands and len(argv) == 3:
        result = commands[command](argv[2])
    elif command == "names":
        result = names()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
