"""Request and response models of the API (they make the OpenAPI description)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "UploadUrlRequest",
    "SubmitRequest",
    "RecordingInfo",
    "PatientInfo",
    "UploadUrlEnvelope",
    "StatusEnvelope",
    "UploadEnvelope",
    "ResultEnvelope",
    "ErrorEnvelope",
]


class UploadUrlRequest(BaseModel):
    """Ask for a signed upload URL (this creates the task)."""

    model_config = ConfigDict(extra="ignore")

    filename: str = Field(
        min_length=1,
        max_length=255,
        description="file name, with extension (kept as a label, never used as a path)",
        json_schema_extra={"examples": ["day1.aiecg", "r100.zip"]},
    )
    file_size: int = Field(ge=1, strict=True, description="size of the file in bytes")
    file_format: str = Field(
        max_length=32,
        description="aiecg, edf, mit (a ZIP of one WFDB record) or csv; others answer 415",
        json_schema_extra={"examples": ["aiecg", "edf", "mit", "csv"]},
    )
    duration_hours: float = Field(
        gt=0, le=744, allow_inf_nan=False, strict=True, description="recording length in hours"
    )
    checksum: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{32}$", description="MD5 of the file, hex"
    )


class RecordingInfo(BaseModel):
    """Facts a CSV file does not carry (ignored for self-describing formats)."""

    model_config = ConfigDict(extra="ignore")

    sampling_rate: float | None = Field(default=None, gt=0, le=100_000, allow_inf_nan=False)
    lead_names: list[str] | None = Field(default=None, max_length=64)
    adc_gain: float | list[float] | None = Field(default=None, description="ADC units per mV")
    adc_zero: float | list[float] | None = Field(default=None, description="ADC zero")
    start_time: str | None = Field(default=None, max_length=64, description="ISO-8601")
    units: Literal["uV", "mV", "V"] | None = None

    @field_validator("start_time")
    @classmethod
    def _iso_start_time(cls, value: str | None) -> str | None:
        from holterlab.errors import HolterlabError
        from holterlab.io.aiecg import parse_start_time

        try:
            parse_start_time(value, "recording_info")
        except HolterlabError:
            raise ValueError(
                f"start_time {value!r} is not an ISO-8601 date and time (e.g. 2026-01-05T08:30:00)"
            ) from None
        return value


class PatientInfo(BaseModel):
    """Patient facts printed on the report."""

    model_config = ConfigDict(extra="allow")

    id: str | None = Field(default=None, max_length=128)
    age: int | None = Field(default=None, ge=0, le=150)
    sex: str | None = Field(default=None, max_length=16)


class SubmitRequest(BaseModel):
    """Submit the analysis of an uploaded file."""

    model_config = ConfigDict(extra="ignore")

    task_id: str = Field(max_length=64)
    callback_url: str | None = Field(default=None, max_length=2048)
    analysis_options: dict[str, Any] | None = Field(
        default=None, description="holterlab AnalysisParams as a JSON object (partial allowed)"
    )
    recording_info: RecordingInfo | None = None
    patient_info: PatientInfo | None = None


class UploadUrlData(BaseModel):
    task_id: str
    upload_url: str
    upload_method: Literal["PUT"]
    upload_headers: dict[str, str]
    expires_at: str
    max_file_size: int


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class TaskError(BaseModel):
    code: str
    message: str


class StatusData(BaseModel):
    task_id: str
    status: Literal[
        "pending_upload",
        "uploaded",
        "queued",
        "processing",
        "completed",
        "failed",
        "cancelled",
        "expired",
    ]
    progress: int = Field(ge=0, le=100)
    stage: str | None
    created_at: str | None
    uploaded_at: str | None
    submitted_at: str | None
    started_at: str | None
    finished_at: str | None
    error: TaskError | None
    result_available: bool
    report_available: bool


class UploadData(BaseModel):
    task_id: str
    status: str
    file_size: int
    checksum: str


class UploadUrlEnvelope(BaseModel):
    status: Literal["success"]
    data: UploadUrlData


class StatusEnvelope(BaseModel):
    status: Literal["success"]
    data: StatusData


class UploadEnvelope(BaseModel):
    status: Literal["success"]
    data: UploadData


class ResultEnvelope(BaseModel):
    status: Literal["success"]
    data: dict[str, Any] = Field(description="holterlab's result (result.schema.json)")


class ErrorEnvelope(BaseModel):
    status: Literal["error"]
    error: ErrorInfo
