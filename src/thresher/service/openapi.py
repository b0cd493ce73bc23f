"""OpenAPI fragments for the routes that read raw bytes (the hot path builds no model per case)."""

CASE = {
    "type": "object",
    "required": ["id", "score"],
    "properties": {
        "id": {"anyOf": [{"type": "string"}, {"type": "integer"}],
               "description": "the case, as the audit log keeps it"},
        "score": {"type": "number", "description": "the model score; finite (NaN and Infinity are rejected). "
                                                   "The policy's own score field name is accepted too."},
    },
    "additionalProperties": {"description": "the policy's segment fields (string, number, boolean or null); every "
                                            "segment field is required, other fields are ignored"},
    "example": {"id": "loan-1", "score": 0.71, "student": "yes"},
}
BATCH = {"type": "object", "required": ["cases"],
         "properties": {"cases": {"type": "array", "items": CASE, "minItems": 1,
                                  "description": "at most --max-batch cases (default 10,000)"}}}
DECISION = {"type": "object", "properties": {
    "id": {}, "action": {"type": "string"},
    "tier": {"type": "string", "description": "the tier reached (its action), or 'otherwise'"},
    "threshold": {"type": ["number", "null"], "description": "of the tier reached; the lowest tier's for otherwise"},
    "segment": {"type": "string", "description": "the name of the rule that matched"}}}
SINGLE_OUT = {"allOf": [DECISION, {"type": "object", "properties": {
    "request_id": {"type": "string"}, "policy": {"type": "string"}, "policy_version": {"type": "integer"}}}]}
BATCH_OUT = {"type": "object", "properties": {
    "request_id": {"type": "string", "description": "one per request; every decision in it shares it"},
    "policy": {"type": "string"}, "policy_version": {"type": "integer"}, "count": {"type": "integer"},
    "decisions": {"type": "array", "items": DECISION, "description": "in the order of the cases"}}}
ERROR = {"type": "object", "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {
    "type": "object", "properties": {"loc": {"type": "array"}, "path": {"type": "string"}, "msg": {"type": "string"},
                                     "type": {"type": "string"}}}}]}}}

DECIDE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"oneOf": [CASE, BATCH]},
    "examples": {"single": {"value": {"id": "loan-1", "score": 0.71, "student": "yes"}},
                 "batch": {"value": {"cases": [{"id": 1, "score": 0.2, "student": "no"},
                                               {"id": 2, "score": 0.9, "student": "yes"}]}}}}}}}
DECIDE_RESPONSES = {
    200: {"description": "decided and recorded in the audit log",
          "content": {"application/json": {"schema": {"oneOf": [SINGLE_OUT, BATCH_OUT]}}}},
    413: {"description": "more cases than --max-batch", "content": {"application/json": {"schema": ERROR}}},
    422: {"description": "a bad body; `path` names the field", "content": {"application/json": {"schema": ERROR}}},
    503: {"description": "the audit log could not record the decision; nothing is returned",
          "content": {"application/json": {"schema": ERROR}}},
}
POLICY_BODY = {"requestBody": {"required": True, "description": "a policy document (see `thresher policy schema`)",
                               "content": {"application/json": {"schema": {"type": "object"}},
                                           "application/yaml": {"schema": {"type": "string"}}}}}
