# Quiet pipelines: q hides the nominal replies (mg miss, ms/md HD, ma HD),
# and a trailing mn marks the end of the batch.
>>> ms a 1 q
>>> 1
>>> ms b 1 q
>>> 2
>>> ms c 1 q ME
>>> 3
>>> mg a v q k
>>> mg zz v q k
>>> mg b v q k
>>> md c q
>>> md zz q
>>> ma zz q
>>> ma cnt N0 J3 q
>>> ma cnt q
>>> mn
<<< VA 1 ka
<<< 1
<<< VA 1 kb
<<< 2
<<< NF
<<< NF
<<< HD
<<< MN
# an opaque tells pipelined replies apart
>>> mg a v O1
>>> mg zz v O2
>>> mg b v O3 q
>>> mg zz v O4 q
>>> mn
<<< VA 1 O1
<<< 1
<<< EN O2
<<< VA 1 O3
<<< 2
<<< MN
# errors always reach the client
>>> mg a v q q
>>> ms a 1 q MZ
>>> x
>>> mn
<<< CLIENT_ERROR duplicate flag
<<< CLIENT_ERROR invalid mode for ms M token
<<< MN
# mn on its own, with anything after it
>>> mn
<<< MN
>>> mn whatever
<<< MN
