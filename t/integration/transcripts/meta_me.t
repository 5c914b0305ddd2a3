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
