# nothing reached a path outside the ones the templates name
for p in /admin/delete /sink/ /sink/paths/ /sink/paths /echo/ /echo; do
  hp_want "requests to $p" "$(hp_by_path "$p")" -eq 0
done
hp_want "requests to /echo/a/b c%d" "$(hp_by_path "/echo/a/b c%d")" -eq 1
