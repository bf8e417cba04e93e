# the SQLite tables hold the same integers, as INTEGER
want='from_sqlite|-9223372036854775808|9223372036854775807|integer|integer
from_sqlite|9007199254740992|-1234567890123456789|integer|integer
from_sqlite|9007199254740993|123456789012345678|integer|integer
from_sqlite|9223372036854775807|-9223372036854775807|integer|integer
from_pg|-9223372036854775808|9223372036854775807|integer|integer
from_pg|9007199254740992|-1234567890123456789|integer|integer
from_pg|9007199254740993|123456789012345678|integer|integer
from_pg|9223372036854775807|-9223372036854775807|integer|integer'
got=$(sqlite3 lite.db "SELECT 'from_sqlite', id, n, typeof(id), typeof(n) FROM from_sqlite ORDER BY id;
                       SELECT 'from_pg', id, n, typeof(id), typeof(n) FROM from_pg ORDER BY id")
[ "$got" = "$want" ] || printf 'sqlite tables differ:\n%s\n' "$got"
