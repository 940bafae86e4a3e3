"""The flights of the late deliveries, scored by the delay model in use."""

from steward import product


@product(
    inputs_as="pandas",
    description="The probability that each flight arrives more than 15 minutes late, "
                "from the delay model; rebuilt when the model or the flights change.",
    owner="ml-team@example.com",
    tags=["ml", "scores"],
    primary_key=["flight_id"],
)
def delay_risk(ml__new_flights, ml__delay_model):
    scored = ml__delay_model.score(ml__new_flights)
    return scored.rename(columns={"score": "late_probability"})
