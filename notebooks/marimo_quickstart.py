import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import marimo as mo

    mo.md(
        """
        # wfkit quick start, as a marimo app

        The quick start of `01_quickstart.ipynb` in marimo: a workflow that waits a
        week of virtual time, its live execution graph, the clock and events panel, its
        history table and the dashboard (anywidgets, which marimo renders natively).
        Open it with `marimo edit notebooks/marimo_quickstart.py`, or serve it with
        `marimo run`.
        """
    )
    return (mo,)


@app.cell
def _():
    from datetime import timedelta

    import wfkit as wf

    wfr = wf.WorkflowRuntime()  # virtual clock, history in DuckDB (in memory)

    @wfr.activity
    def greet(ctx, name: str) -> str:
        return f"Hello, {name}!"

    @wfr.activity
    def shout(ctx, text: str) -> str:
        return text.upper()

    @wfr.workflow(name="hello_week")
    def hello_week(ctx: wf.DaprWorkflowContext, name: str):
        greeting = yield ctx.call_activity(greet, input=name)
        yield ctx.create_timer(timedelta(days=7))  # fast-forwarded
        return (yield ctx.call_activity(shout, input=greeting))

    wfr.start()
    client = wf.DaprWorkflowClient(wfr)
    iid = client.schedule_new_workflow(hello_week, input="marimo", instance_id="hello-marimo")
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=30)
    assert state.serialized_output == '"HELLO, MARIMO!"'
    return iid, state, wfr


@app.cell
def _(iid, mo, state):
    mo.md(f"Instance `{iid}`: **{state.runtime_status.name}**, output `{state.serialized_output}`")
    return


@app.cell
def _(iid, mo, wfr):
    from wfkit.widgets import GraphWidget

    graph = mo.ui.anywidget(GraphWidget(wfr, iid))
    graph
    return


@app.cell
def _(iid, mo, wfr):
    from wfkit.widgets import ClockPanel

    clock = mo.ui.anywidget(ClockPanel(wfr, iid))
    clock
    return


@app.cell
def _(iid, mo, wfr):
    from wfkit.widgets import HistoryTable

    history = mo.ui.anywidget(HistoryTable(wfr, iid, page_size=10))
    history
    return


@app.cell
def _(wfr):
    from wfkit.widgets import dashboard

    dashboard(wfr)
    return


if __name__ == "__main__":
    app.run()
