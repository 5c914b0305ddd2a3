# me: item metadata, read without touching the item
>>> ms foo 1
>>> 1
<<< HD
>>> me foo
<<< ME foo exp=-1 la=0 cas=1 fetch=no cls=1 size=63
>>> me foo
<<< ME foo exp=-1 la=0 cas=1 fetch=no cls=1 size=63
>>> mg foo
<<< HD
>>> me foo
<<< ME foo exp=-1 la=0 cas=1 fetch=yes cls=1 size=63
>>> ms foo2 1 F5 T100
>>> 1
<<< HD
>>> me foo2
<<< ME foo2 exp=-100 la=0 cas=2 fetch=no cls=1 size=68
>>> me nokey
<<< EN
>>> me
<<< CLIENT_ERROR bad command line format
# incr/decr to a number no longer than the old one rewrites it in place:
# it stays fetched; a longer one is a new item, not fetched
>>> set inc 0 0 2
>>> 10
<<< STORED
>>> get inc
<<< VALUE inc 0 2
<<< 10
<<< END
>>> decr inc 5
<<< 5
>>> mg inc h
<<< HD h1
>>> incr inc 100
<<< 105
>>> mg inc h
<<< HD h0
