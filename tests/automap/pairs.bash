# pairs.bash — the auto-map pairs (tests/automap/pairs/NAME/) made ready and scored; sourced by the
# automap suite (tests/lib/97-automap.sh) and by bench/automap.sh. A pair holds flow.flow (the source
# type and the import), the destination's schema — dest.sql (SQLite DDL, made into dest.db), sample.json,
# a declared type in flow.flow, or setup.sql (PostgreSQL, run in a database of its own) —, args (more
# arguments of flowc automap, optional) and expected.map: `TARGET <- SOURCE` per line, what a person
# maps (the fields it does not list stay unmapped). A pair with a file `held-out` was written after the
# matcher was tuned on the others and is never tuned on: the table gives those pairs a row of their own.
# Needs FLOWC; AM_PG_PORT and AM_PSQL for the PostgreSQL pairs (without them they are skipped).

# am_prepare SRC WORK: WORK is a fresh copy of pair SRC with its database made; AM_ENV holds the
# environment automap needs (PG_DSN). Returns 1 when the pair needs PostgreSQL and none is given,
# 2 when its database could not be made (the reason in WORK/prepare.log).
am_prepare() {
  local src=$1 work=$2 db
  AM_ENV=()
  rm -rf "$work" && mkdir -p "$work" && cp -r "$src"/. "$work"/
  if [ -f "$src/dest.sql" ]; then
    sqlite3 "$work/dest.db" <"$src/dest.sql" >"$work/prepare.log" 2>&1 || return 2
  fi
  if [ -f "$src/setup.sql" ]; then
    [ -n "${AM_PG_PORT:-}" ] || return 1
    db=am_$(printf '%s' "${src##*/}" | tr -c 'a-z0-9' '_')
    { "$AM_PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$AM_PG_PORT" -U flowtest -d postgres \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" &&
      "$AM_PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$AM_PG_PORT" -U flowtest -d "$db" -f "$src/setup.sql"; } \
      >"$work/prepare.log" 2>&1 || return 2
    AM_ENV=("PG_DSN=host=127.0.0.1 port=$AM_PG_PORT user=flowtest dbname=$db")
  fi
  return 0
}

# am_args SRC: the pair's extra arguments, one per word
am_args() { if [ -f "$1/args" ]; then tr '\n' ' ' <"$1/args"; fi; echo; }

# am_schema SRC: which kind of destination schema the pair has
am_schema() {
  if [ -f "$1/setup.sql" ]; then echo postgres
  elif [ -f "$1/dest.sql" ]; then echo sqlite
  elif [ -f "$1/sample.json" ]; then echo sample
  else echo type; fi
}

# am_score JSON EXPECTED: "EXPECTED SUGGESTED CORRECT CONFIDENT CONFIDENT_CORRECT" for flowc automap
# --json's output against the expected mapping; the wrong suggestions and the misses in AM_WRONG.
am_score() {
  local json=$1 exp=$2
  local sug
  sug=$(jq -r '.suggestions[] | [.target, .source, (if .confident then "1" else "0" end)] | @tsv' "$json") || return 1
  awk -F'\t' -v sug="$sug" '
    /^[ \t]*(#|$)/ { next }
    { split($0, p, / *<- */); t = p[1]; gsub(/^[ \t]+/, "", t); want[t] = p[2]; nexp++ }
    END {
      n = split(sug, lines, "\n")
      for (i = 1; i <= n; i++) {
        if (lines[i] == "") continue
        split(lines[i], f, "\t")
        ns++; if (f[3] == "1") nc++
        if ((f[1] in want) && want[f[1]] == f[2]) { ok++; if (f[3] == "1") okc++; got[f[1]] = 1 }
        else printf "wrong: %s <- %s%s\n", f[1], f[2], ((f[1] in want) ? " (expected " want[f[1]] ")" : " (expected unmapped)") > "/dev/stderr"
      }
      for (t in want) if (!(t in got)) printf "missed: %s <- %s\n", t, want[t] > "/dev/stderr"
      printf "%d %d %d %d %d\n", nexp, ns, ok, nc, okc
    }' "$exp" 2>"$json.wrong"
  AM_WRONG=$(sort "$json.wrong")
}

# am_ratio A B: A/B with two decimals ("-" when B is 0)
am_ratio() { if [ "$2" -eq 0 ]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi; }

# am_table WORKROOT: runs automap --json on every pair into WORKROOT/NAME and prints the table; sets
# AM_P, AM_R (all suggestions) and AM_PC, AM_RC (the confident ones, which --write inserts), and
# AM_SKIPPED (pairs that could not run here)
am_table() {
  local root=$1 d name work rc e s ok c okc args
  local te=0 ts=0 tok=0 tc=0 tokc=0 he=0 hs=0 hok=0 hc=0 hokc=0 mark
  AM_SKIPPED=()
  printf '%-28s %-8s %4s %4s %4s %5s %5s | %4s %4s %5s %5s\n' pair schema exp sugg ok prec rec conf ok prec rec
  for d in tests/automap/pairs/*/; do
    d=${d%/}; name=${d##*/}; work=$root/$name
    am_prepare "$d" "$work"; rc=$?
    if [ $rc -ne 0 ]; then
      AM_SKIPPED+=("$name: $([ $rc = 1 ] && echo "no PostgreSQL here" || head -n 3 "$work/prepare.log")")
      printf '%-28s %-8s (skipped)\n' "$name" "$(am_schema "$d")"
      continue
    fi
    read -ra args < <(am_args "$d")
    (cd "$work" && exec env "${AM_ENV[@]}" "$FLOWC" automap flow.flow "${args[@]}" --json) >"$work/out.json" 2>"$work/out.err"
    read -r e s ok c okc < <(am_score "$work/out.json" "$d/expected.map")
    mark=
    if [ -f "$d/held-out" ]; then
      mark=" (h)"; he=$((he + e)); hs=$((hs + s)); hok=$((hok + ok)); hc=$((hc + c)); hokc=$((hokc + okc))
    fi
    printf '%-28s %-8s %4d %4d %4d %5s %5s | %4d %4d %5s %5s\n' "$name$mark" "$(am_schema "$d")" "$e" "$s" "$ok" \
      "$(am_ratio "$ok" "$s")" "$(am_ratio "$ok" "$e")" "$c" "$okc" "$(am_ratio "$okc" "$c")" "$(am_ratio "$okc" "$e")"
    te=$((te + e)); ts=$((ts + s)); tok=$((tok + ok)); tc=$((tc + c)); tokc=$((tokc + okc))
  done
  AM_P=$(am_ratio $tok $ts); AM_R=$(am_ratio $tok $te); AM_PC=$(am_ratio $tokc $tc); AM_RC=$(am_ratio $tokc $te)
  printf '%-28s %-8s %4d %4d %4d %5s %5s | %4d %4d %5s %5s\n' "held-out (h) pairs" "" "$he" "$hs" "$hok" "$(am_ratio $hok $hs)" \
    "$(am_ratio $hok $he)" "$hc" "$hokc" "$(am_ratio $hokc $hc)" "$(am_ratio $hokc $he)"
  printf '%-28s %-8s %4d %4d %4d %5s %5s | %4d %4d %5s %5s\n' "all (micro-average)" "" "$te" "$ts" "$tok" "$AM_P" "$AM_R" "$tc" "$tokc" "$AM_PC" "$AM_RC"
}
