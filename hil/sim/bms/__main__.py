import sys

from hil.sim.bms.process import main

sys.exit(main())
