#!/usr/bin/env python3
"""validate_schema: check mxcheck's JSON Lines output against docs/schema.json.

Usage:
    python3 Tests/Lab/validate_schema.py docs/schema.json FILE...

Every non-empty line of each FILE ("-" reads stdin) must be one JSON object
that the schema (JSON Schema draft 2020-12, formats checked) accepts.

Prints "N objects valid" when all are, else one line per error:
    FILE:LINE: $.json.path: message
Exit status: 0 when every object is valid and at least one was checked;
1 otherwise (invalid object, unreadable file, no object at all, bad schema);
2 when the jsonschema package is missing or the command line is wrong.
"""

import json
import sys

USAGE = "usage: validate_schema.py SCHEMA.json FILE..."


def json_path(path):
    """Renders an error's absolute path as $.a.b[0].c."""
    text = "$"
    for part in path:
        if isinstance(part, int):
            text += "[%d]" % part
        elif part.isidentifier():
            text += "." + part
        else:
            text += "[%s]" % json.dumps(part)
    return text


def read_lines(name):
    if name == "-":
        return sys.stdin.read().splitlines()
    with open(name, encoding="utf-8") as handle:
        return handle.read().splitlines()


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        import jsonschema
        from jsonschema import Draft202012Validator
    except ImportError:
        print("validate_schema.py: the jsonschema package is missing: pip install jsonschema", file=sys.stderr)
        return 2

    schema_name = argv[1]
    try:
        with open(schema_name, encoding="utf-8") as handle:
            schema = json.load(handle)
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as error:
        print("%s: cannot read the schema: %s" % (schema_name, error), file=sys.stderr)
        return 1
    except jsonschema.exceptions.SchemaError as error:
        print("%s: not a valid draft 2020-12 schema: %s at %s" % (schema_name, error.message, json_path(error.absolute_path)), file=sys.stderr)
        return 1
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    checked = 0
    failures = 0
    unreadable = 0
    for name in argv[2:]:
        shown = "<stdin>" if name == "-" else name
        try:
            lines = read_lines(name)
        except (OSError, UnicodeDecodeError) as error:
            print("%s: cannot read: %s" % (shown, error))
            unreadable += 1
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            checked += 1
            try:
                document = json.loads(line)
            except ValueError as error:
                print("%s:%d: not JSON: %s" % (shown, number, error))
                failures += 1
                continue
            errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
            if errors:
                failures += 1
            for error in errors:
                print("%s:%d: %s: %s" % (shown, number, json_path(error.absolute_path), error.message))

    if failures or unreadable:
        print("%d of %d objects invalid" % (failures, checked)
              + (", %d files unreadable" % unreadable if unreadable else ""), file=sys.stderr)
        return 1
    if checked == 0:
        print("no JSON object found in %s" % ", ".join(argv[2:]), file=sys.stderr)
        return 1
    print("%d objects valid" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
