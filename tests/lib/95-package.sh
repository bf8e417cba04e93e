#!/usr/bin/env bash
# Suite `package`: flowc package / install / clone and environments (issue 12), on the fixtures in
# tests/package/ (shop/: params with doc comments, env blocks, hooks, a file() given, http and file
# connections, a webhook, once() and delta() flows).
#   package/package/*   reproducible bytes (cmp of two runs at different times; tar headers: sorted,
#                       mtime 0, uid/gid 0, no owner names); --list text and JSON goldens
#                       (tests/package/list.expected, list-json.expected); --env; refusals
#   package/install/*   -P values written as defaults (the rest byte for byte), checks and tests clean;
#                       hostile packages built by tests/package/hostile.py (tampered, path escapes, links,
#                       devices, manifest mismatches) refused with nothing written; updates
#   package/clone/*     the clone checks clean, the original stays byte for byte, its state is its own
#   package/env/*       --env/--environment the same for build (describe), run, preview, test, install
# Executed directly rather than sourced: run this suite through tests/run.sh.
[ "${BASH_SOURCE[0]}" != "$0" ] || exec "$(dirname "$0")/../run.sh" package

pk_tmp=$T_TMP/package
rm -rf "$pk_tmp"
mkdir -p "$pk_tmp"
pk_shop=$ROOT/tests/package/shop
pk_hostile=$ROOT/tests/package/hostile.py

# ---- package ----
t_case package/package/reproducible
mkdir -p "$pk_tmp/src1" "$pk_tmp/src2"
cp -r "$pk_shop"/. "$pk_tmp/src1/"
cp -r "$pk_shop"/. "$pk_tmp/src2/"
touch -d '2001-02-03 04:05:06' "$pk_tmp/src2/shop.flow" "$pk_tmp/src2/hooks/hooks.c"
t_exec -C "$pk_tmp" "$FLOWC" package src1/shop.flow
t_expect_rc 0
t_expect_grep "$C_ERR" 'packaged shop-sync 1.2.0 \(3 files\) into shop-sync-1.2.0.flowpkg' "no line naming the package"
t_exec -C "$pk_tmp" "$FLOWC" package src2/shop.flow -o second.flowpkg
t_expect_rc 0
cmp -s "$pk_tmp/shop-sync-1.2.0.flowpkg" "$pk_tmp/second.flowpkg" || t_note "two packages of the same files differ (cmp)"
t_exec python3 -c '
import sys, tarfile
t = tarfile.open(sys.argv[1], "r:gz")
names = [m.name for m in t.getmembers()]
assert names == sorted(names), names
assert names == ["fixtures/orders.json", "hooks/hooks.c", "manifest.json", "shop.flow"], names
for m in t.getmembers():
    assert m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" and m.mode == 0o644 and m.isreg(), (m.name, m.mtime, m.uid, m.uname, m.mode)
print("ok")' "$pk_tmp/second.flowpkg"
t_expect_rc 0
t_expect_grep "$C_OUT" '^ok$' "the archive's entries are not sorted, timeless and ownerless regular files"
t_done

for pk_fmt in text json; do
  pk_out=$pk_tmp/list-$pk_fmt.out
  pk_exp=$ROOT/tests/package/list$([ $pk_fmt = json ] && echo -json).expected
  golden_run 0 "$pk_out" "$pk_out.err" "$pk_tmp" "$FLOWC" package --list shop-sync-1.2.0.flowpkg --format $pk_fmt
  if golden_cmp "$pk_exp" "$pk_out" "$pk_out.err"; then pass "package/package/list-$pk_fmt$G_NOTE"; else fail "package/package/list-$pk_fmt" "${G_MSGS[@]}"; fi
done

t_case package/package/list-verifies
t_exec python3 "$pk_hostile" "$pk_tmp/shop-sync-1.2.0.flowpkg" lie "$pk_tmp/lie.flowpkg"
t_exec -C "$pk_tmp" "$FLOWC" package --list lie.flowpkg
t_expect_rc 1
t_expect_grep "$C_ERR" 'does not match' "--list prints a manifest that lies"
t_expect_nogrep "$C_OUT" 'Harmless' "--list printed the lie"
t_done

t_case package/package/list-json-is-the-manifest
t_exec -C "$pk_tmp" sh -c '"$1" package --list shop-sync-1.2.0.flowpkg --format json | jq -e ".params[3].default == \"<redacted>\" and .params[3].secret and .params[0].doc == \"The shop'"'"'s base URL. Point it at your shop'"'"'s API.\" and .env == [\"CRM_KEY\",\"HOOK_TOKEN\"] and .connections[0].settings.base_url.params == [\"shop_url\"] and (.flows[0].trigger.path == \"/hooks/orders\")"' sh "$FLOWC"
t_expect_rc 0
t_expect_nogrep "$C_OUT" 'dev-token|prod-secret' "a secret param's value is in the listing"
t_done

t_case package/package/env
t_exec -C "$pk_tmp" "$FLOWC" package src1/shop.flow --env sandbox -o sandbox.flowpkg
t_expect_rc 0
t_exec -C "$pk_tmp" sh -c '"$1" package --list sandbox.flowpkg --format json | jq -r ".environment, .params[0].default, .params[2].default"' sh "$FLOWC"
[ "$(tr '\n' ' ' <"$C_OUT")" = "sandbox http://127.0.0.1:8081 5 " ] || t_note "the sandbox package's manifest: $(tr '\n' ' ' <"$C_OUT")"
t_exec -C "$pk_tmp" "$FLOWC" package src1/shop.flow --env nosuch
t_expect_rc 2
t_expect_grep "$C_ERR" 'no env `nosuch`' "an unknown env is not named"
t_done

t_case package/package/refusals
mkdir -p "$pk_tmp/bad"
printf 'flow f { export e from c { file = "x" } }\nconnection c = file { dir = "." }\n' >"$pk_tmp/bad/noname.flow"
t_exec -C "$pk_tmp/bad" "$FLOWC" package noname.flow
t_expect_rc 1
t_expect_grep "$C_ERR" 'integration "NAME" version' "a nameless integration is not refused with the way to name it"
cat >"$pk_tmp/bad/outside.flow" <<'EOF'
integration "o" version "1"
connection c = file { dir = "." }
flow f { export e from c { file = "x.ndjson" } import i into c { file = "y.ndjson" } }
test "t" for f { given e = file("../outside.json") }
EOF
echo '[]' >"$pk_tmp/outside.json"
t_exec -C "$pk_tmp/bad" "$FLOWC" package outside.flow
t_expect_rc 1
t_expect_grep "$C_ERR" 'outside.flow:4:33: error: test data file "../outside.json" is outside the directory' "a file() outside the .flow file's directory is not refused at its place"
[ -e "$pk_tmp/bad/o-1.flowpkg" ] && t_note "a package was written anyway"
# a hook named by an absolute path inside the tree checks, but a package holds relative paths only
mkdir -p "$pk_tmp/bad/hooks"
cp "$pk_shop/hooks/hooks.c" "$pk_tmp/bad/hooks/"
printf 'integration "a" version "1"\nconnection c = file { dir = "." }\nflow f { hook pre_save_page = c("%s/bad/hooks/hooks.c", "drop_test_orders") export e from c { file = "x.ndjson" } import i into c { file = "y.ndjson" } }\n' "$pk_tmp" >"$pk_tmp/bad/abs.flow"
t_exec -C "$pk_tmp/bad" "$FLOWC" check abs.flow
t_expect_rc 0
t_exec -C "$pk_tmp/bad" "$FLOWC" package abs.flow
t_expect_rc 1
t_expect_grep "$C_ERR" 'abs.flow:3:[0-9]+: error: a package holds files under the .flow file.s directory: ".*" is absolute' "an absolute hook path is not refused at its place"
[ -e "$pk_tmp/bad/a-1.flowpkg" ] && t_note "a package was written anyway"
t_done

# ---- install ----
t_case package/install/params-as-defaults
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg inst -P region=EU -P 'shop_url=http://shop.test/"q"'
t_expect_rc 0
t_expect_grep "$C_OUT" '^installed shop-sync 1.2.0 into inst' "no line saying what was installed"
t_expect_grep "$C_OUT" '^  CRM_KEY \(not set here\)$' "CRM_KEY is not listed as needed"
t_expect_grep "$C_OUT" '^  HOOK_TOKEN' "HOOK_TOKEN is not listed as needed"
t_expect_grep "$C_OUT" '^  shop \(http\): base_url from param shop_url; auth from param shop_token$' "the shop connection's bindings are not listed"
sed -e 's|^param shop_url: string = .*|param shop_url: string = "http://shop.test/\\"q\\""|' \
    -e 's|^param region: string  |param region: string = "EU"  |' "$pk_shop/shop.flow" >"$pk_tmp/expected-inst.flow"
cmp -s "$pk_tmp/expected-inst.flow" "$pk_tmp/inst/shop.flow" ||
  t_note "the installed file is not the package's with two defaults changed:" "$(diff "$pk_tmp/expected-inst.flow" "$pk_tmp/inst/shop.flow" | head -n 10)"
cmp -s "$pk_shop/hooks/hooks.c" "$pk_tmp/inst/hooks/hooks.c" || t_note "the hook was not installed as packaged"
t_exec "$FLOWC" check "$pk_tmp/inst/shop.flow"
t_expect_rc 0
t_exec "$FLOWC" test "$pk_tmp/inst/shop.flow"
t_expect_rc 0
t_expect_grep "$C_OUT" '^1 passed, 0 failed$' "the installed tests (their file() data) do not pass"
[ -f "$pk_tmp/inst/.flowpkg/base.flowpkg" ] && cmp -s "$pk_tmp/inst/.flowpkg/base.flowpkg" "$pk_tmp/shop-sync-1.2.0.flowpkg" ||
  t_note "DIR/.flowpkg/base.flowpkg is not the installed package"
t_done

t_case package/install/bad-params
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg inst-bad -P regoin=EU
t_expect_rc 2
t_expect_grep "$C_ERR" 'did you mean `region`' "an undeclared -P has no suggestion"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg inst-bad -P page=s3cr3t-not-an-int
t_expect_rc 2
t_expect_grep "$C_ERR" 'page=\.\.\.: the value is not an int' "a bad int is not refused"
t_expect_nogrep "$C_ERR" 's3cr3t' "the value of a -P is printed"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg inst-bad -P "shop_token=s3cr3t$(printf '\377')"
t_expect_rc 2
t_expect_grep "$C_ERR" 'shop_token=\.\.\.: the value is not valid UTF-8' "a value that is not UTF-8 is not refused"
t_expect_nogrep "$C_ERR" 's3cr3t' "the value of a -P is printed"
[ -e "$pk_tmp/inst-bad" ] && t_note "a refused install made its directory"
t_done

pk_kinds="tampered tampered-samesize badhash escape absolute symlink hardlink device fifo dir unlisted missing dup nomanifest dotgit lie extra"
for pk_kind in $pk_kinds; do
  t_case "package/install/refuses-$pk_kind"
  t_exec python3 "$pk_hostile" "$pk_tmp/shop-sync-1.2.0.flowpkg" "$pk_kind" "$pk_tmp/h-$pk_kind.flowpkg"
  t_expect_rc 0
  rm -rf "$pk_tmp/h" /tmp/flowpkg-absolute.txt "$pk_tmp/escaped.txt"
  t_exec -C "$pk_tmp" "$FLOWC" install "h-$pk_kind.flowpkg" h -P region=EU
  t_expect_rc 1
  t_expect_grep "$C_ERR" 'nothing was installed$' "no refusal that says nothing was installed"
  case $pk_kind in
    tampered*|badhash) t_expect_grep "$C_ERR" 'the package was altered' "not reported as altered" ;;
    escape) t_expect_grep "$C_ERR" 'has a `\.\.` component' "not reported as escaping" ;;
    absolute) t_expect_grep "$C_ERR" 'is an absolute path' "not reported as absolute" ;;
    symlink) t_expect_grep "$C_ERR" 'is a symbolic link' "not reported as a symlink" ;;
    hardlink) t_expect_grep "$C_ERR" 'is a hard link' "not reported as a hard link" ;;
    device|fifo) t_expect_grep "$C_ERR" 'is a device, FIFO' "not reported as a special file" ;;
    dir) t_expect_grep "$C_ERR" 'is a directory' "not reported as a directory" ;;
    unlisted) t_expect_grep "$C_ERR" 'not in its manifest' "not reported as unlisted" ;;
    missing) t_expect_grep "$C_ERR" 'which the package does not hold' "not reported as missing" ;;
    dup) t_expect_grep "$C_ERR" 'twice' "not reported as a duplicate" ;;
    nomanifest) t_expect_grep "$C_ERR" 'no manifest.json' "not reported as manifest-less" ;;
    dotgit) t_expect_grep "$C_ERR" 'start with `\.`' "not reported as a dot name" ;;
    lie) t_expect_grep "$C_ERR" 'manifest.json.s "params" does not match the package.s files' "a lying manifest is not refused" ;;
    extra) t_expect_grep "$C_ERR" 'holds "hooks/sneaky.c", which its .flow file does not name' "a file the .flow file does not name is not refused" ;;
  esac
  [ -e "$pk_tmp/h" ] && t_note "the refused install wrote $(find "$pk_tmp/h" | head -n 5 | tr '\n' ' ')"
  [ -e /tmp/flowpkg-absolute.txt ] || [ -e "$pk_tmp/escaped.txt" ] && t_note "a file landed outside DIR"
  t_done
done

t_case package/install/plain-tar-accepted
t_exec python3 "$pk_hostile" "$pk_tmp/shop-sync-1.2.0.flowpkg" plain "$pk_tmp/plain.flowpkg"
t_exec -C "$pk_tmp" "$FLOWC" install plain.flowpkg plain -P region=US
t_expect_rc 0
t_done

t_case package/install/not-a-package
printf 'not a package at all' >"$pk_tmp/junk.flowpkg"
t_exec -C "$pk_tmp" "$FLOWC" install junk.flowpkg junk
t_expect_rc 1
t_expect_grep "$C_ERR" 'junk.flowpkg: not' "junk is not refused as not a package"
t_exec -C "$pk_tmp" "$FLOWC" install missing.flowpkg junk
t_expect_rc 2
t_done

t_case package/install/symlink-in-dir-not-followed
mkdir -p "$pk_tmp/linked" "$pk_tmp/elsewhere"
ln -sfn "$pk_tmp/elsewhere" "$pk_tmp/linked/hooks"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg linked -P region=EU
t_expect_rc 1
t_expect_grep "$C_ERR" 'linked/hooks/hooks.c' "the file under the symlink is not named"
[ -e "$pk_tmp/elsewhere/hooks.c" ] && t_note "a file was written through the symlink"
[ -e "$pk_tmp/linked/shop.flow" ] && t_note "a refused install wrote shop.flow"
t_done

t_case package/install/existing-file-kept
mkdir -p "$pk_tmp/mine"
echo '// my own' >"$pk_tmp/mine/shop.flow"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg mine -P region=EU
t_expect_rc 1
t_expect_grep "$C_ERR" 'mine/shop.flow: is there already' "an existing file is not named"
[ "$(cat "$pk_tmp/mine/shop.flow")" = '// my own' ] || t_note "an existing file was overwritten"
t_done

t_case package/install/environment
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg prod --environment production -P region=US
t_expect_rc 0
t_expect_grep "$pk_tmp/prod/shop.flow" '^param shop_url: string = "https://shop.example.com"$' "the production url is not the default"
t_expect_grep "$pk_tmp/prod/shop.flow" '^param shop_token: string = "prod-secret"  // the shop' "the production token is not the default"
t_expect_grep "$C_OUT" 'params written as defaults: shop_url shop_token region \(environment production\)' "the params written are not listed"
t_expect_nogrep "$C_OUT" 'prod-secret' "a secret value is printed"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg prod2 --env staging
t_expect_rc 2
t_expect_grep "$C_ERR" 'no env `staging` in shop-sync-1.2.0.flowpkg \(envs: sandbox, production\)' "an unknown environment is not refused with the known ones"
t_done

# an update: version 1.3.0 adds a flow; the hook and the data file are unchanged
mkdir -p "$pk_tmp/v13"
cp -r "$pk_shop"/. "$pk_tmp/v13/"
sed -i 's/version "1.2.0"/version "1.3.0"/' "$pk_tmp/v13/shop.flow"
printf '\nflow extra {\n  export x: Order from files { file = "x.ndjson" }\n  import y into files { file = "y.ndjson" }\n}\n' >>"$pk_tmp/v13/shop.flow"
t_case package/install/update-unedited
t_exec -C "$pk_tmp" "$FLOWC" package v13/shop.flow
t_expect_rc 0
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg upd -P region=EU
t_expect_rc 0
echo '/* my tweak */' >>"$pk_tmp/upd/hooks/hooks.c"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.3.0.flowpkg upd
t_expect_rc 0
t_expect_grep "$C_OUT" '^updated shop-sync 1.2.0 -> 1.3.0 in upd' "no line saying what was updated"
t_expect_grep "$C_OUT" 'kept your edited hooks/hooks.c' "the kept local hook is not reported"
t_expect_grep "$pk_tmp/upd/shop.flow" '^param region: string = "EU"' "the value set at install was lost by the update"
t_expect_grep "$pk_tmp/upd/shop.flow" '^flow extra' "the new version's flow is not there"
t_expect_grep "$pk_tmp/upd/hooks/hooks.c" 'my tweak' "the local edit of the hook was overwritten"
t_exec "$FLOWC" check "$pk_tmp/upd/shop.flow"
t_expect_rc 0
t_done

# an edited .flow file is merged with the new version by resource (flowc merge's merge): base = the
# installed version, ours = the local file, theirs = the new one; install's own values are no edit
t_case package/install/update-edited-merges
mkdir -p "$pk_tmp/v15"
cp -r "$pk_shop"/. "$pk_tmp/v15/"
sed -i 's/version "1.2.0"/version "1.5.0"/; s/import copy into files { file = "copy.ndjson", map { id = record.id } }/import copy into files { file = "copy.ndjson", map { id = record.id, email = record.email } }/' "$pk_tmp/v15/shop.flow"
t_exec -C "$pk_tmp" "$FLOWC" package v15/shop.flow
t_expect_rc 0
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg mrg -P region=EU
t_expect_rc 0
sed -i 's|schedule = cron("\*/15 \* \* \* \*")|schedule = cron("*/5 * * * *")  // mine: every 5 minutes|' "$pk_tmp/mrg/shop.flow"
grep -q 'mine: every 5 minutes' "$pk_tmp/mrg/shop.flow" || t_note "the local edit was not made (the fixture changed?)"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.5.0.flowpkg mrg
t_expect_rc 0
t_expect_grep "$C_OUT" '^updated shop-sync 1.2.0 -> 1.5.0 in mrg' "no line saying what was updated"
t_expect_grep "$C_OUT" '^merged your edits of shop.flow with the new version' "the merge is not reported"
t_expect_grep "$pk_tmp/mrg/shop.flow" 'schedule = cron\("\*/5 \* \* \* \*"\)  // mine: every 5 minutes' "the local edit was lost"
t_expect_grep "$pk_tmp/mrg/shop.flow" 'map \{ id = record.id, email = record.email \}' "the new version's change is not there"
t_expect_grep "$pk_tmp/mrg/shop.flow" '^param region: string = "EU"' "the value set at install was lost"
t_expect_grep "$pk_tmp/mrg/shop.flow" 'version "1.5.0"' "the version line is not the new one"
t_exec "$FLOWC" check "$pk_tmp/mrg/shop.flow"
t_expect_rc 0
t_done

# both change the same item: the update is refused, the conflict named, nothing written
t_case package/install/update-edited-conflict
mkdir -p "$pk_tmp/v16"
cp -r "$pk_tmp/v15"/. "$pk_tmp/v16/"
sed -i 's/version "1.5.0"/version "1.6.0"/; s|schedule = cron("\*/15 \* \* \* \*")|schedule = cron("0 * * * *")|' "$pk_tmp/v16/shop.flow"
t_exec -C "$pk_tmp" "$FLOWC" package v16/shop.flow
t_expect_rc 0
cp "$pk_tmp/mrg/shop.flow" "$pk_tmp/mrg-before.flow"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.6.0.flowpkg mrg
t_expect_rc 1
t_expect_grep "$C_ERR" 'flow orders › schedule: conflict: ' "the conflicting item is not named"
t_expect_grep "$C_ERR" 'mrg/shop.flow: your edits and the new version change the same items' "the refusal does not say why"
t_expect_grep "$C_ERR" 'nothing was written' "the refusal does not say nothing was written"
cmp -s "$pk_tmp/mrg/shop.flow" "$pk_tmp/mrg-before.flow" || t_note "the edited file was changed"
t_expect_grep "$pk_tmp/mrg/.flowpkg/installed.json" '"version":.*"1.5.0"' "the record of the installed version moved"
t_done

# a kept local edit stays an edit for the next update too (installed.json records the package's
# hash, not the edited file's: the second update replaced the hook with the package's)
t_case package/install/kept-edit-survives-two-updates
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg two -P region=EU
t_expect_rc 0
echo '/* my tweak */' >>"$pk_tmp/two/hooks/hooks.c"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.5.0.flowpkg two
t_expect_rc 0
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.6.0.flowpkg two
t_expect_rc 0
t_expect_grep "$C_OUT" 'kept your edited hooks/hooks.c' "the kept local hook is not reported on the second update"
t_expect_grep "$pk_tmp/two/hooks/hooks.c" 'my tweak' "the second update overwrote the local edit of the hook"
t_done

t_case package/install/update-renamed-flow-file
mkdir -p "$pk_tmp/v14"
cp -r "$pk_tmp/v13"/. "$pk_tmp/v14/"
mv "$pk_tmp/v14/shop.flow" "$pk_tmp/v14/store.flow"
sed -i 's/version "1.3.0"/version "1.4.0"/' "$pk_tmp/v14/store.flow"
t_exec -C "$pk_tmp" "$FLOWC" package v14/store.flow
t_expect_rc 0
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg ren -P region=US
mkdir -p "$pk_tmp/ren-foreign"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg ren-foreign -P region=US
echo '// mine' >"$pk_tmp/ren-foreign/store.flow"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.4.0.flowpkg ren-foreign
t_expect_rc 1
t_expect_grep "$C_ERR" 'ren-foreign/store.flow: is there already and was not installed' "a file of the user's at the new name is not refused"
[ "$(cat "$pk_tmp/ren-foreign/store.flow")" = '// mine' ] || t_note "the user's file was overwritten"
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.4.0.flowpkg ren
t_expect_rc 0
t_expect_grep "$C_OUT" 'removed shop.flow \(not in the new version\)' "the old .flow file's removal is not reported"
[ -e "$pk_tmp/ren/shop.flow" ] && t_note "the old .flow file is still there"
t_expect_grep "$pk_tmp/ren/store.flow" '^param region: string = "US"' "the value set at install did not move to the renamed file"
t_done

t_case package/install/one-at-a-time
# while another install holds DIR (the lock install takes: flock on the directory, here held by
# util-linux's flock for a moment), a second one is refused at once and writes nothing
mkdir -p "$pk_tmp/busy"
flock -o "$pk_tmp/busy" sleep 30 &
pk_holder=$!
for _ in $(seq 100); do flock -n "$pk_tmp/busy" true 2>/dev/null || break; sleep 0.05; done
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg busy -P region=EU
t_expect_rc 1
t_expect_grep "$C_ERR" 'another flowc install into busy is running: nothing was installed' "a concurrent install is not refused"
[ -z "$(ls -A "$pk_tmp/busy")" ] || t_note "the refused install wrote: $(ls -A "$pk_tmp/busy")"
pkill -P "$pk_holder" 2>/dev/null; kill "$pk_holder" 2>/dev/null; wait "$pk_holder" 2>/dev/null
t_exec -C "$pk_tmp" "$FLOWC" install shop-sync-1.2.0.flowpkg busy -P region=EU
t_expect_rc 0
t_done

t_case package/install/update-other-integration
t_exec -C "$pk_tmp/bad" sh -c 'printf "integration \"other\" version \"1\"\n" > other.flow && "$1" package other.flow -o ../other.flowpkg' sh "$FLOWC"
t_exec -C "$pk_tmp" "$FLOWC" install other.flowpkg upd
t_expect_rc 1
t_expect_grep "$C_ERR" 'upd holds shop-sync, not other' "installing another integration over one is not refused"
t_done

# ---- clone ----
t_case package/clone/checks-clean
t_exec -C "$pk_tmp/src1" "$FLOWC" clone shop.flow orders orders_eu -o cloned.flow
t_expect_rc 0
t_expect_grep "$C_ERR" 'orders_eu: schedule manual\(\)' "the schedule change is not reported"
t_expect_grep "$pk_tmp/src1/cloned.flow" '^  trigger = webhook\("/hooks/orders_eu", verify' "the clone's webhook path is not its own"
t_expect_grep "$pk_tmp/src1/cloned.flow" 'mode = once\(flag = "exported_orders_eu"\)' "the clone's once flag is not its own"
t_exec "$FLOWC" check "$pk_tmp/src1/cloned.flow"
t_expect_rc 0
# the original bytes stay: the output minus the inserted block is the input
t_exec python3 -c '
import sys
a = open(sys.argv[1]).read(); b = open(sys.argv[2]).read()
start = b.index("\n\nflow orders_eu {"); end = b.index("\n}", start) + 2
assert b[:start] + b[end:] == a, "the rest of the file changed"
print("ok")' "$pk_shop/shop.flow" "$pk_tmp/src1/cloned.flow"
t_expect_grep "$C_OUT" '^ok$' "the original text was not kept byte for byte"
t_exec -C "$pk_tmp/src1" "$FLOWC" clone shop.flow ordrs x
t_expect_rc 2
t_expect_grep "$C_ERR" 'no flow `ordrs`; did you mean `orders`' "an unknown flow has no suggestion"
t_exec -C "$pk_tmp/src1" "$FLOWC" clone shop.flow orders archive
t_expect_rc 2
t_expect_grep "$C_ERR" 'already has a flow `archive`' "a taken name is not refused"
t_exec -C "$pk_tmp/src1" "$FLOWC" clone shop.flow orders 'bad-name'
t_expect_rc 2
t_done

t_case package/clone/state-separate
mkdir -p "$pk_tmp/cs"
cp -r "$ROOT/tests/package/clonestate"/. "$pk_tmp/cs/"
t_exec -C "$pk_tmp/cs" "$FLOWC" run flow.flow --state st --json
t_expect_grep "$C_OUT" '"imported":\{"copies":3\}' "the first run did not import all three"
t_exec -C "$pk_tmp/cs" "$FLOWC" clone flow.flow events events_copy -o flow.flow
t_expect_rc 0
t_exec -C "$pk_tmp/cs" "$FLOWC" run flow.flow --state st --json
t_expect_rc 0
t_expect_grep "$C_OUT" '^\{"flow":"events",.*"imported":\{"copies":0\}' "the original's delta time did not hold"
t_expect_grep "$C_OUT" '^\{"flow":"events_copy",.*"imported":\{"copies":3\}' "the clone's delta state did not start fresh"
[ "$(wc -l <"$pk_tmp/cs/out/copies-events_copy.ndjson")" = 3 ] || t_note "the clone did not write its own 3 copies"
t_done

# ---- environments, per command ----
pk_env=$pk_tmp/env
mkdir -p "$pk_env"
cp -r "$ROOT/tests/package/envflow"/. "$pk_env/"
t_case package/env/run
t_exec -C "$pk_env" "$FLOWC" run flow.flow --env loud --state st
t_expect_rc 0
t_expect_grep "$pk_env/out/greetings.ndjson" '"text":"HELLO"' "run --env did not apply the env block"
t_exec -C "$pk_env" "$FLOWC" run flow.flow --environment quiet --state st
t_expect_grep "$pk_env/out/greetings.ndjson" '"text":"psst"' "run --environment did not apply the env block"
t_exec -C "$pk_env" "$FLOWC" run flow.flow --env nosuch --state st
t_expect_rc 2
t_expect_grep "$C_ERR" 'no env `nosuch`' "an unknown env is not refused"
t_done

t_case package/env/preview
t_exec -C "$pk_env" "$FLOWC" preview flow.flow --env quiet --format json
t_expect_rc 0
t_expect_grep "$C_OUT" '"text":[[:space:]]*"psst"' "preview --env did not apply the env block"
t_expect_grep "$C_OUT" '"environment":[[:space:]]*"quiet"' "preview's JSON does not name the environment"
t_exec -C "$pk_env" "$FLOWC" preview flow.flow --env quiet
t_expect_grep "$C_OUT" '^preview of flow greet in environment quiet \(' "preview's text does not name the environment"
t_exec -C "$pk_env" "$FLOWC" preview flow.flow --environment nosuch
t_expect_rc 2
t_done

t_case package/env/test
t_exec -C "$pk_env" "$FLOWC" test flow.flow
t_expect_rc 1
t_expect_grep "$C_OUT" '^0 passed, 1 failed$' "the test passes without the env block"
t_exec -C "$pk_env" "$FLOWC" test --env loud flow.flow
t_expect_rc 0
t_expect_grep "$C_OUT" '^1 passed, 0 failed$' "test --env did not apply the env block"
t_exec -C "$pk_env" "$FLOWC" test flow.flow --environment loud
t_expect_rc 0
t_done

t_case package/env/build-describe
# san_build_env OUT [ARGS...]: flowc build against the sanitized runtime, as san_build does
san_build_env() {
  (cd "$pk_env" && FLOWC_RUNTIME_LIB=$ROOT/build/asan/libflowrt.a FLOWC_CFLAGS=$T_SAN_CFLAGS \
     timeout 120 "$FLOWC" build flow.flow -o "$1" "${@:2}") >"$pk_env/build.log" 2>&1
}
san_build_env prog-loud --environment loud || t_note "build --environment failed: $(tail -n 5 "$pk_env/build.log")"
san_build_env prog-plain || t_note "build failed: $(tail -n 5 "$pk_env/build.log")"
t_exec -C "$pk_env" ./prog-loud describe
t_expect_rc 0
t_exec -C "$pk_env" sh -c './prog-loud describe | jq -e ".environment == \"loud\" and .params[0].value == \"HELLO\""'
t_expect_rc 0
t_exec -C "$pk_env" sh -c './prog-plain describe | jq -e ".environment == null and .params[0].value == \"hello\""'
t_expect_rc 0
t_done
