# requires: fresh
# stats detail on|off|dump: memcached's replies and per-prefix counts
# (text protocol; the order of PREFIX lines is the server's own)
>>> stats detail
<<< CLIENT_ERROR usage: stats detail on|off|dump
>>> stats detail bogus
<<< CLIENT_ERROR usage: stats detail on|off|dump
>>> stats detail dump
<<< END
>>> stats settings
<<@ STAT detail_enabled no
<<* STAT \S+ .*
<<< END
>>> stats detail on
<<< OK
>>> stats settings
<<@ STAT detail_enabled yes
<<* STAT \S+ .*
<<< END
# extra words after on/off/dump are ignored, as memcached ignores them
>>> stats detail on please
<<< OK
>>> set a:b 0 0 1
>>> 1
<<< STORED
>>> get a:b
<<< VALUE a:b 0 1
<<< 1
<<< END
>>> get a:c
<<< END
# no delimiter: no prefix, not counted
>>> get nocolon
<<< END
>>> delete a:b
<<< DELETED
>>> delete a:b
<<< NOT_FOUND
>>> set x:y 0 0 1
>>> 1
<<< STORED
# arithmetic and touch are not counted; a failed store counts as a set
>>> incr x:y 1
<<< 2
>>> touch a:c 0
<<< NOT_FOUND
>>> add x:y 0 0 1
>>> 1
<<< NOT_STORED
>>> gets a:b x:y
<<~ VALUE x:y 0 1 \d+
<<< 2
<<< END
>>> stats detail dump
<<@ PREFIX a get 3 hit 1 set 1 del 2
<<@ PREFIX x get 1 hit 1 set 2 del 0
<<* PREFIX \S+ get \d+ hit \d+ set \d+ del \d+
<<< END
# off stops counting and keeps the counts
>>> stats detail off
<<< OK
>>> get a:b
<<< END
>>> stats detail dump foo
<<@ PREFIX a get 3 hit 1 set 1 del 2
<<@ PREFIX x get 1 hit 1 set 2 del 0
<<* PREFIX \S+ get \d+ hit \d+ set \d+ del \d+
<<< END
# stats reset forgets every prefix
>>> stats reset
<<< RESET
>>> stats detail dump
<<< END
