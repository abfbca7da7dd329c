# SPDX-License-Identifier: LGPL-2.1-only
"""Fixtures of the altpop integration tests.

stage         (session)  harness.Stage of `make install DESTDIR=...` of this tree
instance      (function) a running harness.DovecotInstance: protocols pop3 (+ altpop
                         when staged) + lmtp; configurable with
                         @pytest.mark.dovecot(users=..., extra=..., extra_pop3=...,
                         extra_altpop=..., protocols=...)
proto         (param)    "pop3" (stock Dovecot) or "altpop"; the altpop case is
                         skipped when altpop is not built
endpoint      (function) Endpoint of proto in instance: .port .ssl_port
                         .haproxy_port .kpop_port .name .instance
make_instance (function) factory for further instances, stopped at test end
source_ip     (function) a fresh 127.0.x.y source address (auth penalty)
workdir       (function) an empty private directory, removed afterwards
altpop_stage  (function) the stage, or skip/fail when altpop is not usable
@pytest.mark.altpop_only  skip (or fail, see below) when altpop is not usable
@pytest.mark.plain_build  the test says nothing in a sanitizer build (configure
                          --enable-sanitizers) and is skipped there; a
                          sanitizer run of tests/run.sh runs exactly these
                          again in a plain build (pytest -m plain_build)
@pytest.mark.core         (pytestmark of whole files) the core subset: real
                          clients, differential, KPOP (pytest -m core)

A broken altpop build (make install fails, or doveconf rejects the staged
modules) does not stop the stock pop3 cases: the instance then runs without
altpop and the altpop cases fail with the reason.  A failed test gets the
tail of its instances' Dovecot log attached to its report.  A client bound
to 127.0.0.x (x != 1) is not "secured" for Dovecot (remote IP != local IP):
plaintext auth needs TLS there (as through the haproxy listener on Dovecot
2.3; 2.4 counts haproxied connections as secured).

The instance's configuration comes from dovecot-conf/instance/<major>/ for
the installed Dovecot (harness.DOVECOT_MAJOR, "2.3" or "2.4"); settings for
extra/extra_pop3/extra_altpop are written with harness.setting() (2.3 names
and values, converted for 2.4).

Environment: ALTPOP_IT_REQUIRE=1 turns "altpop not built" skips into failures;
ALTPOP_IT_STOCK_ONLY=1 runs without staging altpop (stock pop3 only);
ALTPOP_IT_KEEP=1 keeps instance directories for inspection.
"""

import os
import shutil
import signal
import tempfile
from dataclasses import dataclass

import pytest

import harness
import mailgen

PROTOS = ("pop3", "altpop")


def _sigterm(signum, frame):
    # `timeout` and friends send SIGTERM: unwind like Ctrl-C so fixture
    # finalizers stop the instances and remove their directories.
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _sigterm)
    config.addinivalue_line(
        "markers", "dovecot(**kwargs): keyword arguments for the instance fixture "
        "(users, extra, extra_pop3, extra_altpop, protocols, lmtp)")
    config.addinivalue_line(
        "markers", "altpop_only: the test needs altpop (skipped when not built)")
    config.addinivalue_line(
        "markers", "plain_build: the test says nothing in a sanitizer build "
        "(skipped there)")
    config.addinivalue_line(
        "markers", "core: the core subset (real clients, differential, "
        "KPOP) run on every Dovecot CI covers, also where the whole suite "
        "is not (tests/run.sh --dovecot debian12-bpo)")


def pytest_generate_tests(metafunc):
    if "proto" in metafunc.fixturenames:
        metafunc.parametrize("proto", PROTOS, indirect=True)


def _require():
    return os.environ.get("ALTPOP_IT_REQUIRE") == "1"


def skip_without_altpop(stage):
    """Skip (or fail, if the build is broken or ALTPOP_IT_REQUIRE=1)."""
    if stage.available:
        return
    if stage.failed or _require():
        pytest.fail("altpop not usable: %s" % stage.reason, pytrace=False)
    pytest.skip("altpop not built: %s" % stage.reason)


@pytest.fixture(scope="session")
def stage():
    harness.reap_stale_instances()
    if os.environ.get("ALTPOP_IT_STOCK_ONLY") == "1":
        yield harness.Stage(available=False,
                            reason="ALTPOP_IT_STOCK_ONLY=1: stock Dovecot only")
        return
    root = tempfile.mkdtemp(prefix="altpop-stage-", dir="/tmp")
    try:
        yield harness.stage_altpop(os.path.join(root, "stage"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def altpop_stage(stage):
    """The stage, or skip: for tests that only make sense with altpop."""
    skip_without_altpop(stage)
    return stage


@pytest.fixture(autouse=True)
def _altpop_only(request):
    if request.node.get_closest_marker("altpop_only"):
        skip_without_altpop(request.getfixturevalue("stage"))


@pytest.fixture(autouse=True)
def _plain_build(request):
    marker = request.node.get_closest_marker("plain_build")
    if marker and request.getfixturevalue("stage").sanitizer_runtimes:
        pytest.skip("sanitizer build: %s (run in a plain build: "
                    "pytest -m plain_build)" % marker.kwargs.get("reason", ""))


def _instance_kwargs(request, stage):
    kwargs = {}
    marker = request.node.get_closest_marker("dovecot")
    if marker:
        kwargs.update(marker.kwargs)
    if getattr(request, "param", None):          # indirect parametrization
        kwargs.update(request.param)
    protocols = list(kwargs.pop("protocols", ["pop3", "altpop"]))
    if "altpop" in protocols and not stage.available:
        protocols.remove("altpop")
    if not protocols:
        skip_without_altpop(stage)
    kwargs["protocols"] = protocols
    kwargs["stage"] = stage
    return kwargs


@pytest.fixture
def instance(request, stage):
    inst = harness.DovecotInstance(**_instance_kwargs(request, stage))
    with inst:
        request.node._altpop_instances = getattr(request.node, "_altpop_instances", [])
        request.node._altpop_instances.append(inst)
        yield inst


@pytest.fixture
def loaded(instance):
    """alice's maildrop holds mailgen.standard_set(); returns its (name,
    raw) pairs in delivery order."""
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    return msgs


@pytest.fixture
def make_instance(request, stage):
    """make_instance(protocols=None, **kwargs) -> started DovecotInstance.
    protocols default to pop3 (+ altpop when staged)."""
    made = []

    def factory(protocols=None, **kwargs):
        if protocols is None:
            protocols = ["pop3"] + (["altpop"] if stage.available else [])
        if "altpop" in protocols:
            skip_without_altpop(stage)
        inst = harness.DovecotInstance(protocols=protocols, stage=stage, **kwargs)
        inst.__enter__()
        made.append(inst)
        request.node._altpop_instances = getattr(request.node, "_altpop_instances", [])
        request.node._altpop_instances.append(inst)
        return inst

    yield factory
    for inst in reversed(made):
        inst.__exit__(None, None, None)


@pytest.fixture
def proto(request, stage):
    if request.param == "altpop":
        skip_without_altpop(stage)
    return request.param


@dataclass
class Endpoint:
    name: str             # "pop3" or "altpop"
    instance: object
    host: str = "127.0.0.1"

    @property
    def port(self):
        return self.instance.port(self.name, "pop3")

    @property
    def ssl_port(self):
        return self.instance.port(self.name, "pop3s")

    @property
    def haproxy_port(self):
        return self.instance.port(self.name, "pop3-haproxy")

    @property
    def kpop_port(self):
        return self.instance.port(self.name, "kpop")


@pytest.fixture
def endpoint(proto, instance):
    return Endpoint(proto, instance)


@pytest.fixture
def source_ip():
    return harness.next_source_ip()


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="altpop-client-", dir="/tmp")
    os.chmod(d, 0o700)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for inst in getattr(item, "_altpop_instances", []):
            if inst.tmp is not None:
                report.sections.append(("dovecot log (%s)" % inst.tmp,
                                        inst.log_tail(80)))
