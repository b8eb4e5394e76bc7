from shouwang.queues.views._stub import stub

take = stub
cancel = stub
ticket = stub
ticket_state = stub
day = stub
day_state = stub
board = stub
poster = stub
draw = stub
draw_txt = stub
