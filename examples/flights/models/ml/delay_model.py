"""Will a flight arrive more than 15 minutes late? A gradient-boosted classifier."""

from steward import model

CATEGORICAL = ["carrier", "origin", "dest"]


@model
def delay_model(X, y, seed, max_iter=40, learning_rate=0.1, max_leaf_nodes=31):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    categorical = [c for c in X.columns if c in CATEGORICAL]
    encode = make_column_transformer(
        (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                        encoded_missing_value=-1), categorical),
        remainder="passthrough", verbose_feature_names_out=False)
    boost = HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
        categorical_features=list(range(len(categorical))), early_stopping=False,
        random_state=seed)
    return make_pipeline(encode, boost).fit(X, y)
