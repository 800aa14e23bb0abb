import sys

from holterlab.cli import main

sys.exit(main())
