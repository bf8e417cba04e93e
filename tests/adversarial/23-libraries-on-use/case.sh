# 23: a built flow loads libcurl, libpq and libmicrohttpd when it first uses them (runtime/dynlib.c;
# before, it linked all three and the thirty libraries they bring, ~5 ms of every start): a flow of
# files links none of them, and a library that cannot be loaded (here: a fake one found first on
# LD_LIBRARY_PATH) fails the connection that needs it, naming the library and what it is for.
adv_build
mkdir -p fake
echo "not a library" > fake/libpq.so.5
echo 'int flowc_fake;' > fake.c
cc -shared -fPIC -o fake/libcurl.so.4 fake.c && cp fake/libcurl.so.4 fake/libmicrohttpd.so.12
echo '{"id":1}' > in.ndjson

t_case adversarial/23-libraries-on-use/links-none-of-them
t_exec ldd ./prog
t_expect_rc 0
t_expect_nogrep "$C_OUT" 'libcurl|libpq|libmicrohttpd' "the executable links a library it loads when used"
t_done

t_case adversarial/23-libraries-on-use/a-missing-library-fails-its-connection
t_exec sh -c 'LD_LIBRARY_PATH="$PWD/fake" exec ./prog run < in.ndjson'
t_expect_rc 1
t_expect_grep "$C_OUT" '^\{"id":1\}$' "the flow of files ran"
t_expect_grep "$C_ERR" '^flow plain: exported 1, ignored 0, imported out=1, errors 0$'
t_expect_grep "$C_ERR" '^error: flow pg: connection db: cannot load libpq\.so\.5, the PostgreSQL client \(postgres connections, a state store in PostgreSQL\): .*fake/libpq\.so\.5: '
t_expect_grep "$C_ERR" '^error: flow web: connection api: cannot use libcurl\.so\.4, the HTTP client \(http connections, hooks. HTTP calls\): it has no curl_[a-z_]+ \(another version of the library\?\)$'
t_expect_nogrep "$C_ERR" 'AddressSanitizer|runtime error|Aborted' "a crash"
t_done

t_case adversarial/23-libraries-on-use/serve-without-its-server-library
t_exec env LD_LIBRARY_PATH="$PWD/fake" ./prog serve --listen 127.0.0.1:0
t_expect_rc 1
t_expect_grep "$C_ERR" 'cannot use libmicrohttpd\.so\.12, the HTTP server \(serve, webhook listeners\): it has no MHD_'
t_done
