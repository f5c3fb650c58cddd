# SPDX-License-Identifier: MIT
# The hardware-emulator example (examples/eda), included by the main
# Makefile, whose B CC STD CPPFLAGS CFLAGS WARN API_LIB it uses.  Everything
# goes to $(B)/examples/eda; programs find the libraries beside them and
# libcocoon-api.so in $(B)/lib through $ORIGIN, from any copy of build/.
# `make demo-eda` runs the fault campaign (examples/eda/campaign.sh).

# Do not let the first rule below become the default goal.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

EDA_SRC := examples/eda
EDA_OUT := $(B)/examples/eda
EDA_CFLAGS = $(STD) $(CPPFLAGS) -I$(EDA_SRC) $(CFLAGS) $(WARN)
EDA_RPATH := -Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/../../lib'
EDA_NET := $(EDA_SRC)/eda-net.c
EDA_HDRS := $(wildcard $(EDA_SRC)/*.h) include/cocoon.h

EDA := $(EDA_OUT)/emulator $(EDA_OUT)/license-server $(EDA_OUT)/testbench \
       $(EDA_OUT)/lic-hold $(EDA_OUT)/libemu-client.so $(EDA_OUT)/liblicense-client.so \
       $(EDA_OUT)/libemu-plugin.so $(EDA_OUT)/libfault-plugin.so \
       $(EDA_OUT)/liblicense-plugin.so

$(EDA_OUT)/emulator: $(EDA_SRC)/emulator.c $(EDA_SRC)/design.c $(EDA_SRC)/emu-statefile.c \
		$(EDA_NET) $(EDA_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -o $@ $(filter %.c,$^)

$(EDA_OUT)/license-server: $(EDA_SRC)/license-server.c $(EDA_NET) $(EDA_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -o $@ $(filter %.c,$^)

# The client libraries export only their API (-fvisibility=hidden).
$(EDA_OUT)/lib%-client.so: $(EDA_SRC)/%-client.c $(EDA_NET) $(EDA_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -shared -fPIC -fvisibility=hidden -Wl,-soname,$(notdir $@) \
		-o $@ $(filter %.c,$^)

$(EDA_OUT)/testbench: $(EDA_SRC)/testbench.c $(EDA_SRC)/design.c $(EDA_HDRS) \
		$(EDA_OUT)/libemu-client.so $(EDA_OUT)/liblicense-client.so $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -o $@ $(filter %.c,$^) -L$(EDA_OUT) -lemu-client -llicense-client \
		-L$(dir $(API_LIB)) -lcocoon-api $(EDA_RPATH)

$(EDA_OUT)/lic-hold: $(EDA_SRC)/lic-hold.c $(EDA_HDRS) $(EDA_OUT)/liblicense-client.so
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -o $@ $(filter %.c,$^) -L$(EDA_OUT) -llicense-client $(EDA_RPATH)

# Plugins: not linked against the runtime (cocoon_* are found in it at load).
$(EDA_OUT)/libemu-plugin.so $(EDA_OUT)/liblicense-plugin.so: $(EDA_OUT)/lib%-plugin.so: \
		$(EDA_SRC)/%-plugin.c $(EDA_SRC)/plugin-conn.c $(EDA_NET) $(EDA_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -shared -fPIC -o $@ $(filter %.c,$^) -ldl -lpthread

$(EDA_OUT)/libfault-plugin.so: $(EDA_SRC)/fault-plugin.c $(EDA_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(EDA_CFLAGS) -shared -fPIC -o $@ $(filter %.c,$^) -ldl

eda: $(EDA)

# tests/cr/eda_scenario.sh needs them.
tests: $(EDA)

demo-eda: all $(EDA)
	sh $(EDA_SRC)/campaign.sh --cocoon $(B)/bin/cocoon --bin $(EDA_OUT)

.PHONY: eda demo-eda
