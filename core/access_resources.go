package core

// How core's records are described to the access policy (access.go): the
// facts of each record its rules read.

// UserResource is the account id: its own owner, so that a user may see itself.
func UserResource(id string) Resource {
	return Resource{Type: ResourceUser, ID: id, Owner: id}
}

// InstanceResource is an instance with its project: the users of the project,
// and those the instance is assigned to, are its users.
func InstanceResource(in *Instance) Resource {
	return Resource{Type: ResourceInstance, ID: in.ID, Project: in.ProjectID}
}

// ImageResource is an image: a pub image is public, an own image its owner's.
func ImageResource(im *Image) Resource {
	r := Resource{Type: ResourceImage, ID: im.ID, Public: im.Zone == ZonePub}
	if im.Zone == ZoneOwn {
		r.Owner = im.OwnerID
	}
	return r
}

// CredentialResource is userID's credential id ("" for one to create).
func CredentialResource(id, userID string) Resource {
	return Resource{Type: ResourceCredential, ID: id, Owner: userID}
}

// FloatingIPResource is the floating IP of userID.
func FloatingIPResource(userID string) Resource {
	return Resource{Type: ResourceFloatingIP, Owner: userID}
}
