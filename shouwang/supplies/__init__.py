"""Supplies (保供): getting food, medicine and materials to every door.

Three apps, cut by what a committee calls the work:

* relief (救助物资发放) — batches allocated to households by rule, lists per grid, delivery
  recorded door by door;
* buying (团购) — vetted merchants, catalogue, order windows, orders, the merchant's picking
  lists and slips, and the delivery chain from the checkpoint to the door;
* materials (防疫物资) — the committee's own store of masks, suits, kits … by location.
"""
