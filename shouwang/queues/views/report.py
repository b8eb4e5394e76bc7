from shouwang.queues.views._stub import stub

report = stub
report_xlsx = stub
