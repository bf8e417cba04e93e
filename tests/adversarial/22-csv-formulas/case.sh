# 22: CSV output wrote `=1+1`, `+cmd|...`, `@SUM(...)` as they were: a spreadsheet opening the file
# runs them. Now a text cell starting with =, +, -, @, a tab or a CR gets a leading `'` (OWASP),
# numbers and texts that are plain numbers (-5, +1.5e3) stay as they are, and csv_formulas = true
# writes every cell unchanged.
adv_both adversarial/22-csv-formulas/neutralised cells --json
t_expect_rc 0
adv_want="id,v
1,'=1+1
2,'+cmd|' /C calc'!A0
3,-5
4,-5
5,'@SUM(A1:A2)
6,'	TAB
7,'-
8,'-2+3
9,+1.5e3
10,\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"
11,plain
12,-0.25"
[ "$(cat "$ADV_NATIVE/out/safe.csv")" = "$adv_want" ] || t_note "out/safe.csv:" "$(diff <(echo "$adv_want") "$ADV_NATIVE/out/safe.csv")"
adv_want="id,v
1,=1+1
2,+cmd|' /C calc'!A0
3,-5
4,-5
5,@SUM(A1:A2)
6,	TAB
7,-
8,-2+3
9,+1.5e3
10,\"=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"
11,plain
12,-0.25"
[ "$(cat "$ADV_NATIVE/out/raw.csv")" = "$adv_want" ] || t_note "out/raw.csv (csv_formulas = true):" "$(diff <(echo "$adv_want") "$ADV_NATIVE/out/raw.csv")"
t_done
