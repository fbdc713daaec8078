"""Client organizations hosted in the ISV's own DocuSign account: their system users and profile (docs/docusign.md §10.1)."""
