#!/usr/bin/env python
from shouwang.cli import main

if __name__ == "__main__":
    main()
