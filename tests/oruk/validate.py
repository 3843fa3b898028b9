"""Validates an Open Referral UK response with the independent `jsonschema` library against the
ORUK schemas copied into tests/oruk/schemas (see LICENSE.txt there). Prints the errors as JSON (an
empty list when the document is valid). Usage: validate.py SCHEMA FILE, e.g. validate.py
organization.json response.json."""
import json
import sys
from pathlib import Path

import jsonschema

schemas = Path(__file__).parent / "schemas"
schema = json.loads((schemas / sys.argv[1]).read_text())
document = json.loads(Path(sys.argv[2]).read_text())
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
errors = [{"path": "/" + "/".join(str(p) for p in e.absolute_path), "message": e.message}
          for e in validator.iter_errors(document)]
print(json.dumps(errors))
