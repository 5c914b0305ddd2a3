# flags: -A
# with -A, shutdown closes the connection and the server exits cleanly
>>> set a 0 0 1
>>> 1
<<< STORED
>>> shutdown
!closed
!exited
