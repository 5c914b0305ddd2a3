# many requests in one write are answered in order
>>> set a 0 0 1
>>> 1
>>> get a
>>> set b 0 0 2 noreply
>>> 22
>>> incr a 5
>>> bogus command
>>> add a 0 0 1
>>> x
>>> gets nothing
>>> delete b
>>> get a b
>>> version
>>> touch a 0
<<< STORED
<<< VALUE a 0 1
<<< 1
<<< END
<<< 6
<<< ERROR
<<< NOT_STORED
<<< END
<<< DELETED
<<< VALUE a 0 1
<<< 6
<<< END
<<~ VERSION \S+
<<< TOUCHED
# a request split over several writes, in odd places
>>- se
!silent 0.1
>>- t sp 0 0 5\r
!silent 0.1
>>- \nhel
!silent 0.1
>>- lo\r
!silent 0.1
>>- \n
<<< STORED
>>- get s
!silent 0.1
>>> p
<<< VALUE sp 0 5
<<< hello
<<< END
# a long pipeline of 500 sets then 500 gets
>>- ${500*set p 0 0 2\r\nab\r\n}
<<* STORED
>>> get p
<<< VALUE p 0 2
<<< ab
<<< END
