from shouwang.queues.views._stub import stub

goods_list = stub
goods_edit = stub
goods_sold_out = stub
goods_delete = stub
photo = stub
