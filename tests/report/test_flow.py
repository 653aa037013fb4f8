"""The generate flow ends by writing the report and linking it from a Prefect artifact."""

from flows.generate import run_generate
from pipeline.report import REPORT


def test_generate_writes_the_report_and_its_artifact(prefect_server, small_cfg, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    out = tmp_path / "ds"
    run_generate(small_cfg(out=str(out)))
    html = (out / REPORT).read_text(encoding="utf-8")
    assert 'id="overview"' in html and 'id="shapes"' in html
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["profiles-report"]))
        )
    mine = [a for a in arts if str(out / REPORT) in (a.data or "")]
    assert len(mine) == 1 and mine[0].type == "markdown"
    assert "Quality report" in mine[0].data and "Run time" in mine[0].data
