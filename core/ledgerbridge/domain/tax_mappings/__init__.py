"""Tax mapping: our tax rates to the books' tax codes/rates; rules in `services`, HTTP in `controllers`."""
