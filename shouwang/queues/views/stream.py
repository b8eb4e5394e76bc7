from shouwang.queues.views._stub import stub

stream = stub
