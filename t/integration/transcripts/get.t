# get / gets: misses, hits, multi-key, duplicates, flags, empty values
>>> get nothing
<<< END
>>> gets nothing
<<< END
>>> set a 0 0 1
>>> 1
<<< STORED
>>> set b 42 0 3
>>> two
<<< STORED
>>> set empty 7 0 0
>>> 
<<< STORED
>>> get a
<<< VALUE a 0 1
<<< 1
<<< END
>>> get a b missing empty a
<<< VALUE a 0 1
<<< 1
<<< VALUE b 42 3
<<< two
<<< VALUE empty 7 0
<<< 
<<< VALUE a 0 1
<<< 1
<<< END
>>> gets a b
<<~ VALUE a 0 1 \d+
<<< 1
<<~ VALUE b 42 3 \d+
<<< two
<<< END
# binary-safe values: NUL, CR and LF inside the data block
>>> set bin 0 0 6
>>> a\0b\r\nc
<<< STORED
>>> get bin
<<< VALUE bin 0 6
<<< a\0b\r\nc
<<< END
# largest flags value
>>> set f 4294967295 0 1
>>> x
<<< STORED
>>> get f
<<< VALUE f 4294967295 1
<<< x
<<< END
# keys up to 250 bytes
>>> set ${250*k} 0 0 1
>>> x
<<< STORED
>>> get ${250*k}
<<< VALUE ${250*k} 0 1
<<< x
<<< END
