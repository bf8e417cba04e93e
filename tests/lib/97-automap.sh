#!/usr/bin/env bash
# Suite `automap`: flowc automap on the pairs of tests/automap/pairs/ (read tests/automap/pairs.bash):
#   automap/pairs/NAME          the text output is the golden expected.out (the release build prints the same)
#   automap/write/NAME          --write: the file checks clean, is in fmt layout, keeps what it held; a second
#                               --write changes nothing and a second run suggests no field the first did not;
#                               the JSON `edit` applied to the original gives the written file (the language
#                               server's edit)
#   automap/quality             precision and recall over every pair against its expected.map, as a table;
#                               fails under the floors below
#   automap/at                  --at LINE:COL chooses the import holding that place
#   automap/errors/*            unknown flow and import (the choices named), unreadable or bad samples, a
#                               missing table or database, an unknown --type, no schema, a json source, a file
#                               that does not check, a PostgreSQL that cannot be reached (its password unseen)
# The PostgreSQL pairs run against the throwaway server of scripts/pg.sh (SKIP without PostgreSQL 15).
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" automap

# The floors: just under what the pairs reach (all suggestions, and the confident ones --write inserts).
AM_FLOOR_P=0.95
AM_FLOOR_R=0.72
AM_FLOOR_PC=0.95
AM_FLOOR_RC=0.50

am_tmp=$T_TMP/automap
rm -rf "$am_tmp"; mkdir -p "$am_tmp"
# shellcheck source=tests/automap/pairs.bash
. tests/automap/pairs.bash

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
AM_PG_PORT=; AM_PSQL=$PG_BIN/psql
if [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/postgres" ] && [ -x "$AM_PSQL" ]; then
  trap 'scripts/pg.sh stop "$am_tmp/pg" >/dev/null 2>&1' EXIT
  AM_PG_PORT=$(PG_BIN=$PG_BIN scripts/pg.sh start "$am_tmp/pg" 2>"$am_tmp/pg-start.err") || AM_PG_PORT=
  [ -n "$AM_PG_PORT" ] || fail "automap/postgres-server" "the test server did not start:" "$(cat "$am_tmp/pg-start.err")"
fi

# ---- every pair: its golden, and --write ----
for d in tests/automap/pairs/*/; do
  d=${d%/}; name=${d##*/}; work=$am_tmp/pairs/$name
  am_prepare "$d" "$work"; rc=$?
  if [ $rc = 1 ]; then skip "automap/pairs/$name" "PostgreSQL 15 is not installed (scripts/deps.sh test installs it)"; continue; fi
  if [ $rc = 2 ]; then fail "automap/pairs/$name" "its database could not be made:" "$(cat "$work/prepare.log")"; continue; fi
  read -ra args < <(am_args "$d")

  golden_run 0 "$work/out" "$work/err" "$work" env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}"
  if ! golden_cmp "$ROOT/$d/expected.out" "$work/out" "$work/err"; then
    fail "automap/pairs/$name" "${G_MSGS[@]}" "$(head -n 5 "$work/err")"
  else
    msg=
    if [ -n "$FLOWC_REL" ]; then
      golden_run 0 "$work/out.rel" "$work/err.rel" "$work" env "${AM_ENV[@]}" "$FLOWC_REL" automap flow.flow "${args[@]}"
      cmp -s "$work/out" "$work/out.rel" || msg="the release build prints something else: $(diff "$work/out" "$work/out.rel" | head -n 5)"
    fi
    if [ -z "$msg" ]; then pass "automap/pairs/$name$G_NOTE"; else fail "automap/pairs/$name" "$msg"; fi
  fi

  t_case "automap/write/$name"
  cp "$work/flow.flow" "$work/orig.flow"
  t_exec -C "$work" env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}" --json
  t_expect_rc 0
  cp "$C_OUT" "$work/first.json"
  t_exec -C "$work" env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}" --write
  t_expect_rc 0
  nconf=$(jq '[.suggestions[] | select(.confident)] | length' "$work/first.json")
  if [ "$nconf" -gt 0 ]; then
    t_expect_grep "$C_ERR" "wrote $nconf map lines? into import" "no line saying what was written"
    cmp -s "$work/flow.flow" "$work/orig.flow" && t_note "--write changed nothing, with $nconf confident suggestions"
  else
    cmp -s "$work/flow.flow" "$work/orig.flow" || t_note "--write changed the file without a confident suggestion"
  fi
  t_exec -C "$work" "$FLOWC" check flow.flow
  t_expect_rc 0
  t_exec -C "$work" "$FLOWC" fmt --check flow.flow
  t_expect_rc 0
  # every line of the original is still there, in order (only map lines were added)
  if ! diff "$work/orig.flow" "$work/flow.flow" | grep -q '^<'; then :; else t_note "--write removed or changed lines: $(diff "$work/orig.flow" "$work/flow.flow" | grep '^<' | head -n 3)"; fi
  # each confident suggestion is in the file as its map line
  while IFS=$'\t' read -r tgt val; do
    leaf=${tgt##*.}
    grep -qF -- "$leaf = $val" "$work/flow.flow" || t_note "the written file lacks \`$leaf = $val\`"
  done < <(jq -r '.suggestions[] | select(.confident) | [.target, .value] | @tsv' "$work/first.json")
  # the language server's edit gives the same file
  python3 - "$work/orig.flow" "$work/first.json" "$work/flow.flow" >"$work/edit.log" 2>&1 <<'EOF' || t_note "the JSON edit applied to the original is not the written file: $(head -n 3 "$work/edit.log")"
import json, sys
orig = open(sys.argv[1], 'rb').read()
e = json.load(open(sys.argv[2]))['edit']
want = open(sys.argv[3], 'rb').read()
got = orig if e is None else orig[:e['offset']] + e['text'].encode() + orig[e['offset'] + e['length']:]
sys.exit(0 if got == want else 1)
EOF
  # idempotent: a second --write writes nothing, and suggests nothing the first run did not
  cp "$work/flow.flow" "$work/once.flow"
  t_exec -C "$work" env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}" --write --json
  t_expect_rc 0
  cmp -s "$work/flow.flow" "$work/once.flow" || t_note "a second --write changed the file"
  new=$(comm -13 <(jq -r '.suggestions[] | select(.confident | not) | .target' "$work/first.json" | sort) \
                 <(jq -r '.suggestions[].target' "$C_OUT" | sort))
  [ -z "$new" ] && [ "$(jq '[.suggestions[] | select(.confident)] | length' "$C_OUT")" = 0 ] ||
    t_note "the second run suggests what the first did not or still has confident ones: ${new:-$(jq -c '[.suggestions[] | select(.confident) | .target]' "$C_OUT")}"
  t_done
done

# ---- precision and recall over every pair ----
t_case automap/quality
am_table "$am_tmp/quality" >"$am_tmp/quality.txt"
sed 's/^/    /' "$am_tmp/quality.txt"
for f in "P:$AM_P:$AM_FLOOR_P:precision" "R:$AM_R:$AM_FLOOR_R:recall" "PC:$AM_PC:$AM_FLOOR_PC:precision of the confident ones" \
         "RC:$AM_RC:$AM_FLOOR_RC:recall of the confident ones"; do
  IFS=: read -r _ val floor what <<<"$f"
  awk -v v="$val" -v f="$floor" 'BEGIN { exit !(v != "-" && v + 0 >= f + 0) }' || t_note "$what $val is under its floor $floor"
done
[ ${#AM_SKIPPED[@]} -eq 0 ] || printf '    skipped: %s\n' "${AM_SKIPPED[@]}"
t_done

# ---- errors ----
e=$am_tmp/errors
mkdir -p "$e"
cp tests/automap/pairs/shopify-orders-crm/flow.flow "$e/crm.flow"
sqlite3 "$e/dest.db" <tests/automap/pairs/shopify-orders-crm/dest.sql
cp tests/automap/pairs/hubspot-mailchimp/flow.flow "$e/hub.flow"

t_case automap/errors/unknown-flow
t_exec -C "$e" "$FLOWC" automap crm.flow --flow ordrs
t_expect_rc 2
t_expect_grep "$C_ERR" "^flowc: automap: crm.flow has no flow \`ordrs\`; did you mean \`orders\`\? \(its flows: orders\)$"
t_done

t_case automap/errors/unknown-import
t_exec -C "$e" "$FLOWC" automap crm.flow --flow orders --import contact
t_expect_rc 2
t_expect_grep "$C_ERR" "^flowc: automap: flow orders has no import \`contact\`; did you mean \`contacts\`\? \(its imports: contacts\)$"
t_done

t_case automap/at
# --at LINE:COL picks the import holding that place (the language server's code action does the same)
line=$(grep -n 'email = record.email' "$e/crm.flow" | cut -d: -f1)
t_exec -C "$e" "$FLOWC" automap crm.flow --flow orders --import contacts --json
cp "$C_OUT" "$e/by-name.json"
t_exec -C "$e" "$FLOWC" automap crm.flow --at "$line:7" --json
t_expect_rc 0
cmp -s "$C_OUT" "$e/by-name.json" || t_note "--at $line:7 does not give what --import contacts gives"
t_exec -C "$e" "$FLOWC" automap crm.flow --at 2:1
t_expect_rc 2
t_expect_grep "$C_ERR" "^flowc: automap: crm.flow:2:1 is not inside an import$"
t_exec -C "$e" "$FLOWC" automap crm.flow --at x
t_expect_rc 2
t_expect_grep "$C_ERR" "--at takes LINE:COL"
t_done

t_case automap/errors/flow-needed
cat "$e/crm.flow" >"$e/two.flow"
sed -n '/^flow orders {/,$p' "$e/crm.flow" | sed 's/^flow orders {/flow refunds {/' >>"$e/two.flow"
t_exec -C "$e" "$FLOWC" automap two.flow
t_expect_rc 2
t_expect_grep "$C_ERR" "^flowc: automap: two.flow has 2 flows: name one with --flow \(orders, refunds\)$"
t_done

t_case automap/errors/sample-missing
t_exec -C "$e" "$FLOWC" automap hub.flow --sample nope.json
t_expect_rc 1
t_expect_grep "$C_ERR" "^flowc: automap: flow contacts › import members: cannot read the sample nope.json: No such file or directory$"
t_done

t_case automap/errors/sample-not-json
printf '{"email": "a@b", "name": }\n' >"$e/bad.json"
t_exec -C "$e" "$FLOWC" automap hub.flow --sample bad.json
t_expect_rc 1
t_expect_grep "$C_ERR" "the sample bad.json is not JSON: line 1, column [0-9]+: " "no line and column"
t_done

t_case automap/errors/sample-not-records
printf '[1, 2, "x"]\n' >"$e/nums.json"
t_exec -C "$e" "$FLOWC" automap hub.flow --sample nums.json
t_expect_rc 1
t_expect_grep "$C_ERR" "the sample nums.json holds no record: it must be a JSON object or an array of objects$"
t_done

t_case automap/errors/sample-directory
t_exec -C "$e" "$FLOWC" automap hub.flow --sample .
t_expect_rc 1
t_expect_grep "$C_ERR" "cannot read the sample \.: it is a directory$"
t_done

t_case automap/errors/table-missing
sed 's/table = "contacts"/table = "people"/' "$e/crm.flow" >"$e/people.flow"
t_exec -C "$e" "$FLOWC" automap people.flow
t_expect_rc 1
t_expect_grep "$C_ERR" "^flowc: automap: flow orders › import contacts: the SQLite database dest.db has no table \`people\`$"
t_done

t_case automap/errors/database-missing
mkdir -p "$e/elsewhere"
t_exec -C "$e/elsewhere" "$FLOWC" automap ../crm.flow
t_expect_rc 1
t_expect_grep "$C_ERR" "cannot read the SQLite database dest.db: No such file or directory$"
[ -e "$e/elsewhere/dest.db" ] && t_note "automap created dest.db"
t_done

t_case automap/errors/unknown-type
t_exec -C "$e" "$FLOWC" automap hub.flow --type Members
t_expect_rc 1
t_expect_grep "$C_ERR" "no type \`Members\` in hub.flow; its types: HubspotContact$"
t_done

t_case automap/errors/no-schema
t_exec -C "$e" "$FLOWC" automap hub.flow
t_expect_rc 1
t_expect_grep "$C_ERR" "import members writes to a http connection, which has no schema to read: give the destination's fields with --sample FILE.json or --type NAME"
t_done

t_case automap/errors/json-source
sed 's/export contacts: HubspotContact from/export contacts from/' "$e/hub.flow" >"$e/json.flow"
t_exec -C "$e" "$FLOWC" automap json.flow --sample "$ROOT/tests/automap/pairs/hubspot-mailchimp/sample.json"
t_expect_rc 1
t_expect_grep "$C_ERR" "the record entering it is json, so its fields are not known: declare the export's type"
t_done

t_case automap/errors/does-not-check
sed 's/email = record.email/email = record.emial/' "$e/crm.flow" >"$e/broken.flow"
cp "$e/broken.flow" "$e/broken.orig"
t_exec -C "$e" "$FLOWC" automap broken.flow --write
t_expect_rc 1
t_expect_grep "$C_ERR" "emial" "the diagnostic is not shown"
t_expect_grep "$C_ERR" "^flowc: automap: broken.flow does not check: fix it first$"
cmp -s "$e/broken.flow" "$e/broken.orig" || t_note "the file was changed"
t_done

t_case automap/errors/usage
t_exec "$FLOWC" automap
t_expect_rc 2
t_expect_grep "$C_ERR" "FILE is missing"
t_exec -C "$e" "$FLOWC" automap crm.flow --bogus
t_expect_rc 2
t_expect_grep "$C_ERR" "unknown option \`--bogus\`"
t_exec -C "$e" "$FLOWC" automap hub.flow --sample a.json --type HubspotContact
t_expect_rc 2
t_exec -C "$e" "$FLOWC" automap nope.flow
t_expect_rc 2
t_expect_grep "$C_ERR" "cannot read \`nope.flow\`"
t_done

if [ -n "$AM_PG_PORT" ]; then
  cp tests/automap/pairs/salesforce-leads-postgres/flow.flow "$e/pg.flow"
  t_case automap/errors/postgres-table-missing
  sed 's/table = "leads"/table = "prospects"/' "$e/pg.flow" >"$e/pg2.flow"
  t_exec -C "$e" env "PG_DSN=host=127.0.0.1 port=$AM_PG_PORT user=flowtest dbname=postgres password=pw-S3CRET" "$FLOWC" automap pg2.flow
  t_expect_rc 1
  t_expect_grep "$C_ERR" "PostgreSQL \(connection warehouse\) has no table \`prospects\`$"
  t_expect_nogrep "$C_ERR" "S3CRET" "the dsn's password was printed"
  t_done

  t_case automap/errors/postgres-unreachable
  t_exec -C "$e" env "PG_DSN=host=127.0.0.1 port=1 user=flowtest dbname=nope password=pw-S3CRET connect_timeout=2" "$FLOWC" automap pg.flow
  t_expect_rc 1
  t_expect_grep "$C_ERR" "cannot connect to PostgreSQL \(connection warehouse\): "
  t_expect_nogrep "$C_ERR" "S3CRET" "the dsn's password was printed"
  t_exec -C "$e" env "PG_DSN=host=127.0.0.1 port=$AM_PG_PORT pasword=pw-S3CRET" "$FLOWC" automap pg.flow
  t_expect_rc 1
  t_expect_nogrep "$C_ERR" "S3CRET" "the dsn's password was printed"
  t_done

  t_case automap/errors/dsn-unset
  t_exec -C "$e" env -u PG_DSN "$FLOWC" automap pg.flow
  t_expect_rc 1
  t_expect_grep "$C_ERR" "connection warehouse: its \`dsn\` cannot be read here: its env\(\) variable is not set$"
  t_done

  t_case automap/postgres-server-stops
  t_exec scripts/pg.sh stop "$am_tmp/pg"
  t_expect_rc 0
  t_done
  trap - EXIT
fi
