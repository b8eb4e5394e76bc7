from shouwang.queues.views._stub import stub

index = stub
point_edit = stub
day_detail = stub
day_edit = stub
day_close = stub
day_draw = stub
console = stub
console_action = stub
issue = stub
tickets = stub
knock = stub
ticket_print = stub
ticket_cancel = stub
ticket_knocked = stub
