-- session-redis: prepended to every script (scripts.rs). The v1 value header
-- (layout.rs): tag '1', version (20 digits), accessed-at and expires-at (sign and 19
-- digits each). Spelt out: building it with string.rep on every call costs about a
-- quarter of a script's run time.
local V1 =
  '^1%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d[+-]%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d%d$'
