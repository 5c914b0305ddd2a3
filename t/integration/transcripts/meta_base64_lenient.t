# b keys are decoded leniently, as memcached 1.6.18 does (checked live):
# bytes outside the alphabet are skipped, the remaining symbols must be a
# non-zero multiple of four, the first group with '=' ends the key (one or
# two '=' anywhere in it count as pads), three or four pads are refused.
# "key:2" is "key2" once ':' is skipped: the bytes 91 ec b6.
>>> ms key:2 1 b
>>> x
<<< HD
>>> mg key2 b v k
<<< VA 1 kkey2 b
<<< x
>>> mg k!e.y-2 b v k
<<< VA 1 kkey2 b
<<< x
>>> get \x91\xec\xb6
<<< VALUE \x91\xec\xb6 0 1
<<< x
<<< END
# five symbols, three symbols: not a whole number of groups
>>> mg key:2= b v
<<< CLIENT_ERROR error decoding key
>>> mg key b v
<<< CLIENT_ERROR error decoding key
# a padded group ends the key: what follows it is ignored
>>> ms YQ==YWJj 1 b
>>> y
<<< HD
>>> mg YQ== b v k
<<< VA 1 kYQ== b
<<< y
>>> mg YWJj b v
<<< EN
# '=' in the middle of a group is a pad worth zero bits
>>> mg YW=j b v k
<<< EN kYWA= b
>>> mg =WJj b v k
<<< EN kAWI= b
# the unused low bits of the last symbol are dropped: YR== is YQ==
>>> mg YR== b v k
<<< VA 1 kYQ== b
<<< y
>>> mg YWJ= b v k
<<< EN kYWI= b
>>> mg Y=== b v
<<< CLIENT_ERROR error decoding key
>>> mg ==== b v
<<< CLIENT_ERROR error decoding key
