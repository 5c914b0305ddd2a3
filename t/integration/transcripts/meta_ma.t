# ma: incr/decr modes, auto-create (N J), delta (D), echoes, quiet
>>> ma cnt
<<< NF
>>> ma cnt O1 k
<<< NF O1 kcnt
>>> ma cnt N0 J10 v
<<< VA 2
<<< 10
>>> ma cnt v
<<< VA 2
<<< 11
>>> ma cnt MD D3 v
<<< VA 1
<<< 8
>>> ma cnt M- D30 v t k O77
<<< VA 1 t-1 kcnt O77
<<< 0
>>> ma cnt M+ D5 q
>>> ma cnt MI v
<<< VA 1
<<< 6
>>> ma cnt MZ
<<< CLIENT_ERROR invalid mode for ma M token
# incr wraps at 2^64, decr floors at 0
>>> ma cnt D18446744073709551615 v
<<< VA 1
<<< 5
# c and C: the CAS of the result; a wrong one is EX
>>> ma cnt c
<<~ HD c(?P<c1>\d+)
>>> ma cnt C${c1} v
<<< VA 1
<<< 7
>>> ma cnt C${c1} v
<<< EX
# a shorter result keeps the old length, space padded, as memcached
>>> ms num 2
>>> 10
<<< HD
>>> ma num MD D9 v
<<< VA 1
<<< 1
>>> mg num v s
<<< VA 2 s2
<<< 1 
# non-numeric values
>>> ms txt 3
>>> abc
<<< HD
>>> ma txt
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
# q hides HD, not NF; a creating ma answers even under q
>>> ma cnt q
>>> ma nf q
<<< NF
>>> ma new1 N0 q
<<< HD
>>> mn
<<< MN
# N's TTL for a created item, T for any; t reports where it stands
>>> ma nk3 N30 T90 t v
<<< VA 1 t90
<<< 0
>>> ma nk4 T90 N30 t v
<<< VA 1 t30
<<< 0
>>> ma nk5 t N30 v
<<< VA 1 t-1
<<< 0
>>> ma nk5 t v
<<< VA 1 t30
<<< 1
>>> ma nk5 T100 t v
<<< VA 1 t100
<<< 2
# an empty value is non-numeric before the CAS is compared; a non-empty
# one is compared first
>>> mg empty N0
<<< HD W
>>> ma empty C999
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
>>> set word 0 0 1
>>> x
<<< STORED
>>> ma word C999
<<< EX
>>> ma word
<<< CLIENT_ERROR cannot increment or decrement non-numeric value
