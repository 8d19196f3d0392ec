"""Validate a Cognito endpoint's raw responses against botocore's service model.

Requests are built, serialized and sent by botocore itself (parameter
validation off, so that invalid input reaches the wire); each raw response is
captured as botocore received it and checked against the cognito-idp model
that ships with botocore:

  success  HTTP 200, Content-Type application/x-amz-json-1.1, a JSON object
           matching the operation's output shape: no member the model does not
           define, no nulls, required members present, JSON types per shape
           (timestamps are epoch-second numbers), string lengths, enums and
           patterns, integer ranges, list lengths; an empty body for an
           operation without output
  error    HTTP 4xx (5xx for server faults), a JSON object whose __type names
           an error the operation declares or a common AWS error, with the
           members of that error's shape; X-Amzn-ErrorType, when sent, agrees
  both     an x-amzn-RequestId header

Reads {"newer_enums": {shape: [values]}, "calls": [...]} as JSON on stdin; a
call is {"endpoint", "region", "op", "params", "pages", "unsigned"}: pages > 1
follows the pagination token that many times. newer_enums are values that a
newer model than the installed one allows (taken by the caller from another
SDK's model); they are accepted and reported as notes. Writes one result per
call: {"op", "status", "error", "pages", "problems", "notes"}.

Run with the Debian /usr/bin/python3 (python3-botocore).
"""
import json
import re
import sys
import unicodedata

import botocore
import botocore.config
import botocore.session

# Errors any AWS JSON service may answer that no operation declares: the
# Cognito API reference's "Common Errors", plus the names the AWS JSON
# front end uses for the same conditions.
COMMON_ERRORS = {
    "AccessDeniedException", "IncompleteSignature", "InternalFailure", "InvalidAction",
    "InvalidClientTokenId", "NotAuthorized", "OptInRequired", "RequestExpired",
    "ServiceUnavailable", "ThrottlingException", "ValidationError",
    "MissingAuthenticationToken", "MissingAuthenticationTokenException",
    "UnknownOperationException", "SerializationException",
    "UnrecognizedClientException", "InvalidSignatureException",
}
SERVER_FAULTS = {"InternalErrorException", "InternalFailure", "ServiceUnavailable"}

_CATEGORY_CLASS = {}


def category_class(cat):
    """The code points of Unicode general category cat (L, M, S, N, P) as a
    character-class body: Python's re has no \\p{...}, the model's Java
    patterns use it."""
    if cat not in _CATEGORY_CLASS:
        ranges, start, prev = [], None, None
        for cp in range(0x110000):
            if unicodedata.category(chr(cp))[0] == cat:
                if start is None:
                    start = cp
                prev = cp
            elif start is not None:
                ranges.append((start, prev))
                start = None
        if start is not None:
            ranges.append((start, prev))
        _CATEGORY_CLASS[cat] = "".join("\\U%08x-\\U%08x" % r for r in ranges)
    return _CATEGORY_CLASS[cat]


_compiled = {}


def compile_pattern(pattern):
    """A model pattern (Java syntax) as a Python regex: \\p{X} expanded, \\w
    and \\s ASCII as in Java."""
    if pattern not in _compiled:
        out, in_class, i = [], False, 0
        while i < len(pattern):
            c = pattern[i]
            m = re.match(r"\\p\{(\w)\}", pattern[i:])
            if m:
                body = category_class(m.group(1))
                out.append(body if in_class else "[" + body + "]")
                i += len(m.group(0))
                continue
            if c == "\\":
                out.append(pattern[i:i + 2])
                i += 2
                continue
            if c == "[" and not in_class:
                in_class = True
            elif c == "]" and in_class:
                in_class = False
            out.append(c)
            i += 1
        _compiled[pattern] = re.compile("".join(out), re.ASCII)
    return _compiled[pattern]


class Checker:
    def __init__(self, newer_enums):
        self.newer_enums = newer_enums
        self.problems, self.notes = [], []

    def check(self, shape, value, path):
        if value is None:
            self.problems.append(f"{path}: null ({shape.name})")
            return
        t = shape.type_name
        if t == "structure":
            if not isinstance(value, dict):
                return self.bad(path, shape, value)
            for k in value:
                if k not in shape.members:
                    self.problems.append(f"{path}.{k}: member not in {shape.name}")
            for k in shape.required_members:
                if k not in value:
                    self.problems.append(f"{path}: required member {k} of {shape.name} missing")
            for k, v in value.items():
                if k in shape.members:
                    self.check(shape.members[k], v, f"{path}.{k}")
        elif t == "list":
            if not isinstance(value, list):
                return self.bad(path, shape, value)
            self.length(shape, len(value), path)
            for i, v in enumerate(value):
                self.check(shape.member, v, f"{path}[{i}]")
        elif t == "map":
            if not isinstance(value, dict):
                return self.bad(path, shape, value)
            for k, v in value.items():
                self.check(shape.key, k, f"{path} key")
                self.check(shape.value, v, f"{path}[{k!r}]")
        elif t == "string":
            if not isinstance(value, str):
                return self.bad(path, shape, value)
            self.length(shape, len(value), path)
            enum = shape.enum
            if enum and value not in enum:
                if value in self.newer_enums.get(shape.name, []):
                    self.notes.append(f"{path}: {value!r} is not in this botocore's {shape.name} but a newer model has it")
                else:
                    self.problems.append(f"{path}: {value!r} not in {shape.name} {list(enum)}")
            pattern = shape.metadata.get("pattern")
            if pattern and not compile_pattern(pattern).fullmatch(value):
                self.problems.append(f"{path}: {value!r} does not match {shape.name} pattern {pattern}")
        elif t in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                return self.bad(path, shape, value)
            lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                self.problems.append(f"{path}: {value} outside [{lo}, {hi}] of {shape.name}")
        elif t in ("float", "double"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return self.bad(path, shape, value)
        elif t == "boolean":
            if not isinstance(value, bool):
                return self.bad(path, shape, value)
        elif t == "timestamp":
            # awsJson: epoch seconds, a JSON number.
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return self.bad(path, shape, value)
        elif t == "blob":
            if not isinstance(value, str):
                return self.bad(path, shape, value)
        else:
            self.problems.append(f"{path}: unhandled shape type {t}")

    def bad(self, path, shape, value):
        self.problems.append(f"{path}: {type(value).__name__} {value!r:.60} is not a {shape.type_name} ({shape.name})")

    def length(self, shape, n, path):
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            self.problems.append(f"{path}: length {n} outside [{lo}, {hi}] of {shape.name}")


def check_response(model, op, raw, checker):
    status, headers, body = raw["status_code"], raw["headers"], raw["body"]
    lower = {k.lower(): v for k, v in headers.items()}
    if not lower.get("x-amzn-requestid"):
        checker.problems.append("no x-amzn-RequestId header")
    if status == 200 and op.output_shape is None:
        # An operation without output (AdminRemoveUserFromGroup): the API
        # reference says "HTTP 200 response with an empty HTTP body".
        if body:
            checker.problems.append(f"{op.name} has no output, but the body is {body[:80]!r}")
        return None, None
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        checker.problems.append(f"body is not JSON: {body[:80]!r}")
        return None, None
    if not isinstance(doc, dict):
        checker.problems.append(f"body is not a JSON object: {body[:80]!r}")
        return None, None
    if status == 200:
        ctype = lower.get("content-type", "")
        if ctype != "application/x-amz-json-1.1":
            checker.problems.append(f"Content-Type {ctype!r}, want application/x-amz-json-1.1")
        checker.check(op.output_shape, doc, op.name)
        return None, doc
    code = doc.get("__type")
    if not isinstance(code, str) or not code:
        checker.problems.append(f"HTTP {status} without a __type: {body[:80]!r}")
        return None, None
    code = code.rsplit("#", 1)[-1]
    header = lower.get("x-amzn-errortype")
    if header is not None and header.split(":", 1)[0] != code:
        checker.problems.append(f"X-Amzn-ErrorType {header!r} disagrees with __type {code!r}")
    want = "5xx" if code in SERVER_FAULTS else "4xx"
    if str(status)[0] != want[0]:
        checker.problems.append(f"{code} answered with HTTP {status}, want {want}")
    declared = {s.name: s for s in op.error_shapes}
    if code in declared:
        fields = {k: v for k, v in doc.items() if k != "__type"}
        checker.check(declared[code], fields, code)
    elif code not in COMMON_ERRORS:
        checker.problems.append(f"{code} is neither an error {op.name} declares {sorted(declared)} nor a common AWS error")
    elif not isinstance(doc.get("message", doc.get("Message")), str):
        checker.problems.append(f"{code}: no message string")
    return code, None


def run_call(session, model, call, newer_enums):
    config = botocore.config.Config(
        parameter_validation=False,
        retries={"mode": "standard", "total_max_attempts": 1},
        signature_version=botocore.UNSIGNED if call.get("unsigned") else None,
    )
    client = session.create_client(
        "cognito-idp", region_name=call["region"], endpoint_url=call["endpoint"],
        aws_access_key_id="AKIDMODELCHECK", aws_secret_access_key="model-check-secret", config=config,
    )
    captured = []
    # response-received carries the raw response (status, headers, bytes)
    # next to what botocore parsed from it; only the raw one is checked.
    client.meta.events.register(
        "response-received.cognito-identity-provider",
        lambda response_dict=None, exception=None, **kw: captured.append(response_dict or exception),
    )
    op = model.operation_model(call["op"])
    token_key = "PaginationToken" if call["op"] == "ListUsers" else "NextToken"
    params = dict(call["params"])
    checker = Checker(newer_enums)
    result = {"op": call["op"], "status": None, "error": None, "pages": 0}
    for _ in range(max(1, call.get("pages", 1))):
        captured.clear()
        try:
            getattr(client, botocore.xform_name(call["op"]))(**params)
        except botocore.exceptions.ClientError:
            pass
        if not captured:
            checker.problems.append("no response captured")
            break
        raw = captured[-1]
        if not isinstance(raw, dict):
            checker.problems.append(f"request failed: {raw!r}")
            break
        result["status"] = raw["status_code"]
        result["pages"] += 1
        code, doc = check_response(model, op, raw, checker)
        if code is not None:
            result["error"] = code
            break
        if doc is None or token_key not in doc:
            break
        params[token_key] = doc[token_key]
    result["problems"], result["notes"] = checker.problems, checker.notes
    return result


def main():
    request = json.load(sys.stdin)
    session = botocore.session.get_session()
    model = session.get_service_model("cognito-idp")
    newer = request.get("newer_enums", {})
    results = [run_call(session, model, c, newer) for c in request["calls"]]
    json.dump({"botocore": botocore.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
