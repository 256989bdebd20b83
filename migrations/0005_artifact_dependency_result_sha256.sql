-- Artifact dependencies name a query result's hash `resultSha256`, as the attestation predicate does.
UPDATE `artifacts`
SET `dependencies` = (
	SELECT json_group_array(json_object('query', json_extract(`value`, '$.query'), 'resultSha256', json_extract(`value`, '$.resultHash')))
	FROM json_each(`artifacts`.`dependencies`)
)
WHERE EXISTS (SELECT 1 FROM json_each(`artifacts`.`dependencies`) WHERE json_extract(`value`, '$.resultHash') IS NOT NULL);
