# b: the key is base64 (binary keys); k echoes it base64 with a b flag
>>> ms Zm9vYmFy 3 b F7
>>> abc
<<< HD
>>> mg Zm9vYmFy b k v f s
<<< VA 3 kZm9vYmFy b f7 s3
<<< abc
>>> mg Zm9vYmFy b q k
<<< HD kZm9vYmFy b
# the decoded key is the key: a plain get of "foobar" finds it
>>> get foobar
<<< VALUE foobar 7 3
<<< abc
<<< END
# bytes no text key may hold: space, CR, LF, NUL
>>> ms IA0KAA== 2 b
>>> ok
<<< HD
>>> mg IA0KAA== b v k
<<< VA 2 kIA0KAA== b
<<< ok
>>> mg bWlzcw== b k O9
<<< EN kbWlzcw== b O9
>>> md IA0KAA== b k
<<< HD kIA0KAA== b
>>> mg IA0KAA== b v
<<< EN
>>> ma Y250 b N0 J4 v k
<<< VA 1 kY250 b
<<< 4
>>> me Zm9vYmFy b
<<~ ME Zm9vYmFy exp=-1 la=\d+ cas=\d+ fetch=yes cls=\d+ size=72
# not base64
>>> mg !!!! b v
<<< CLIENT_ERROR error decoding key
