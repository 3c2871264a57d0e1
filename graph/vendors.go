package graph

import (
	"github.com/sallyhq/sally/graph/model"
	"github.com/sallyhq/sally/syncer"
)

// vendorInfos are the sync engine's vendors as Query.vendors serves them.
func vendorInfos() []*model.VendorInfo {
	vs := syncer.Vendors()
	out := make([]*model.VendorInfo, len(vs))
	for i, v := range vs {
		out[i] = &model.VendorInfo{
			Vendor: model.Vendor(v.Enum), DisplayName: v.DisplayName,
			IntegrationType: model.IntegrationType(v.IntegrationType), SyncType: model.SyncType(v.SyncType),
		}
	}
	return out
}
