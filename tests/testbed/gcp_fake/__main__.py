# -*- coding: utf-8 -*-
import sys

from .server import main

sys.exit(main())
