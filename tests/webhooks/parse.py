"""Parses webhook bodies back with the committed contract: `proto/` compiled by protoc (Debian's
protobuf-compiler) into a descriptor set, loaded by the reference protobuf runtime for Python (PyPI
`protobuf`, pinned in requirements.txt), each body read with its canonical JSON parser (unknown
fields refused) and written back with its canonical JSON printer.

    python parse.py <proto dir> <bodies.json>

Prints one JSON line per body: { "ok": <the printed JSON equals the body's>, "back": … } or
{ "ok": false, "error": … }.
"""
import json
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def main():
    root, path = sys.argv[1], sys.argv[2]
    with tempfile.NamedTemporaryFile(suffix=".binpb") as out:
        subprocess.run(
            ["protoc", "--include_imports", f"--descriptor_set_out={out.name}", f"-I{root}",
             f"{root}/scaffold/changes/v1/changes.proto"],
            check=True,
        )
        fds = descriptor_pb2.FileDescriptorSet.FromString(open(out.name, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("scaffold.changes.v1.ChangeEvent"))
    with open(path, encoding="utf-8") as f:
        bodies = json.load(f)
    for body in bodies:
        try:
            msg = json_format.Parse(body, cls())
            back = json.loads(json_format.MessageToJson(msg))
            print(json.dumps({"ok": back == json.loads(body), "back": back}))
        except Exception as e:  # the parser's errors, reported per body
            print(json.dumps({"ok": False, "error": str(e)}))


if __name__ == "__main__":
    main()
